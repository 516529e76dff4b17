// Figures that e2e suites measure inside the real extension host (e.g. activationMs). They are written
// into the e2e result JSON and read back by `npm run bench`.
export const metrics: Record<string, number> = {};
