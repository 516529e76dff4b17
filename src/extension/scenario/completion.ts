import * as vscode from 'vscode';
import { complete, type CompletionKind } from '../../scenario/completion';
import { hoverAt } from '../../scenario/hover';
import { LANGUAGE_ID } from './diagnostics';

const KIND: Record<CompletionKind, vscode.CompletionItemKind> = {
  step: vscode.CompletionItemKind.Function,
  field: vscode.CompletionItemKind.Property,
  value: vscode.CompletionItemKind.EnumMember,
  invariant: vscode.CompletionItemKind.Constant,
  thread: vscode.CompletionItemKind.Variable,
  path: vscode.CompletionItemKind.Field,
  keyword: vscode.CompletionItemKind.Keyword,
  label: vscode.CompletionItemKind.Reference,
};

export function registerCompletion(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.languages.registerCompletionItemProvider(
      [{ language: LANGUAGE_ID }, { pattern: '**/*.kvmmmu.yaml' }],
      {
        provideCompletionItems(doc, pos) {
          return complete(doc.getText(), pos.line, pos.character).map((c) => {
            const item = new vscode.CompletionItem(c.label, KIND[c.kind]);
            if (c.detail) item.detail = c.detail;
            if (c.documentation) item.documentation = c.documentation;
            if (c.insertText) item.insertText = c.insertText;
            return item;
          });
        },
      },
      ' ', '[', '{', ':', '-', ',',
    ),
  );
}

export function registerHover(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.languages.registerHoverProvider([{ language: LANGUAGE_ID }, { pattern: '**/*.kvmmmu.yaml' }], {
      provideHover(doc, pos) {
        const h = hoverAt(doc.getText(), pos.line, pos.character);
        if (!h) return undefined;
        return new vscode.Hover(new vscode.MarkdownString(h.markdown), new vscode.Range(h.range.start.line, h.range.start.character, h.range.end.line, h.range.end.character));
      },
    }),
  );
}
