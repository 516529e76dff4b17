// A deliberately broken extension: its only command throws. The harness self-test runs the real e2e
// launcher against it and asserts that the launcher reports the failure and exits non-zero.
const vscode = require('vscode');
exports.activate = function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand('brokenFixture.explode', () => {
    throw new Error('deliberate failure from the broken fixture');
  }));
};
exports.deactivate = function deactivate() {};
