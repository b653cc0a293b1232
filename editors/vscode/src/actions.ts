// The commands that edit the document through the server's code actions: "insert all missing
// sections" and "update table of contents". They ask VS Code for the code actions over the
// whole document (as the light bulb would) and apply the ones they want.

import * as vscode from 'vscode';

type Action = vscode.CodeAction | vscode.Command;

/** A `Command` has a string `command`; a `CodeAction`'s `command`, if any, is an object. */
function isCodeAction(a: Action): a is vscode.CodeAction {
  return typeof (a as vscode.Command).command !== 'string';
}

/** The code actions of every provider for `range` (of `kind`, if given), edits resolved. */
async function actionsAt(
  document: vscode.TextDocument,
  range: vscode.Range,
  kind?: vscode.CodeActionKind,
): Promise<vscode.CodeAction[]> {
  const actions =
    (await vscode.commands.executeCommand<Action[]>(
      'vscode.executeCodeActionProvider',
      document.uri,
      range,
      kind?.value,
      1000,
    )) ?? [];
  return actions.filter(isCodeAction);
}

function codeOf(d: vscode.Diagnostic): string | undefined {
  const code = typeof d.code === 'object' ? d.code.value : d.code;
  return code === undefined ? undefined : String(code);
}

/** Our diagnostics on the document with one of `codes`. */
function ours(document: vscode.TextDocument, codes: string[]): vscode.Diagnostic[] {
  return vscode.languages
    .getDiagnostics(document.uri)
    .filter((d) => d.source === 'joint-review-lsp' && codes.includes(codeOf(d) ?? ''));
}

/** Applies one action: its edit, then its command. */
async function apply(action: vscode.CodeAction): Promise<boolean> {
  if (action.edit && !(await vscode.workspace.applyEdit(action.edit))) {
    return false;
  }
  if (action.command) {
    await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []));
  }
  return true;
}

/**
 * The edits of several quick fixes, all computed against the document's current version, as
 * one workspace edit (so later fixes are not applied to text the earlier ones moved).
 */
function merged(actions: vscode.CodeAction[]): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  const seen = new Set<string>();
  for (const action of actions) {
    for (const [uri, edits] of action.edit?.entries() ?? []) {
      for (const e of edits) {
        const key = `${uri.toString()}:${e.range.start.line}:${e.range.start.character}:${e.range.end.line}:${e.range.end.character}:${e.newText}`;
        if (!seen.has(key)) {
          seen.add(key);
          edit.replace(uri, e.range, e.newText);
        }
      }
    }
  }
  return edit;
}

/**
 * Applies the server's own action for the whole job when it offers one (`whole` matches its
 * title); else, for each of our diagnostics with `codes`, asks for the quick fixes at its range
 * (VS Code's API does not say which diagnostic an action fixes), takes the one `pick` chooses,
 * and applies them all as one edit.
 */
async function run(
  whole: RegExp,
  codes: string[],
  pick: (fixes: vscode.CodeAction[], d: vscode.Diagnostic) => vscode.CodeAction | undefined,
  what: string,
): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'markdown') {
    void vscode.window.showInformationMessage(`Joint Review: open a Markdown document to ${what}.`);
    return;
  }
  const document = editor.document;
  const everything = new vscode.Range(0, 0, document.lineCount, 0);
  const single = (await actionsAt(document, everything)).find((a) => whole.test(a.title));
  if (single) {
    await apply(single);
    return;
  }
  const fixes: vscode.CodeAction[] = [];
  for (const d of ours(document, codes)) {
    const offered = (await actionsAt(document, d.range, vscode.CodeActionKind.QuickFix)).filter(
      (a) => a.edit,
    );
    const chosen = pick(offered, d);
    if (chosen) {
      fixes.push(chosen);
    }
  }
  if (fixes.length === 0) {
    void vscode.window.showInformationMessage(`Joint Review: nothing to ${what} in this document.`);
    return;
  }
  if (!(await vscode.workspace.applyEdit(merged(fixes)))) {
    void vscode.window.showErrorMessage(`Joint Review: could not ${what}: the edit was refused.`);
  }
}

/** The section a missing-section message names ("The template's section 'Threat Model' is ..."). */
function sectionIn(message: string): string | undefined {
  return /\bsection '([^']+)'/.exec(message)?.[1];
}

export function insertMissingSections(): Promise<void> {
  return run(
    /\bmissing sections\b/i,
    ['missing-section'],
    (fixes, d) => fixes.find((a) => a.title === `Insert section '${sectionIn(d.message)}'`),
    'insert the missing sections',
  );
}

export function updateTableOfContents(): Promise<void> {
  return run(
    /\btable of contents\b/i,
    ['toc-link', 'toc-entry'],
    // The fix of a link or entry: the preferred one, else the only one that is not about a
    // missing section.
    (fixes) => {
      const candidates = fixes.filter((a) => !a.title.startsWith('Insert section'));
      return candidates.find((a) => a.isPreferred) ?? (candidates.length === 1 ? candidates[0] : undefined);
    },
    'update the table of contents',
  );
}
