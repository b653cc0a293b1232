// The VS Code client for joint-review-lsp: finds the server binary, starts it over stdio for
// Markdown documents, keeps its settings in sync, and adds the commands.

import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

import { insertMissingSections, updateTableOfContents } from './actions';
import { findServer } from './serverPath';
import { fromTemplate, Outline } from './templates';

const SECTION = 'jointReview';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;

/** What the server reads (server/src/lsp/settings.rs): `{ jointReview: { outline, severity } }`. */
function serverSettings(): { jointReview: { outline: string; severity: Record<string, string> } } {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    jointReview: {
      outline: config.get<string>('outline', 'auto'),
      severity: config.get<Record<string, string>>('severity', {}),
    },
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const found = findServer({
    setting: config.get<string>('server.path', ''),
    extensionPath: context.extensionPath,
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
  });
  if (!found.ok) {
    output.appendLine(found.message);
    const choice = await vscode.window.showErrorMessage(found.message, 'Open Settings', 'Show Output');
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'jointReview.server.path');
    } else if (choice === 'Show Output') {
      output.show();
    }
    return;
  }
  output.appendLine(`Starting ${found.path} (${found.source}).`);
  const args = config.get<string[]>('server.args', []);
  const serverOptions: ServerOptions = {
    run: { command: found.path, args, transport: TransportKind.stdio },
    debug: {
      command: found.path,
      args,
      transport: TransportKind.stdio,
      options: { env: { ...process.env, JOINT_REVIEW_LSP_LOG: 'debug' } },
    },
  };
  const clientOptions: LanguageClientOptions = {
    // Documents on disk, new ones, and those of a virtual workspace; not `git:` and the like,
    // whose copies of a file would double its problems.
    documentSelector: ['file', 'untitled', 'vscode-vfs'].map((scheme) => ({
      language: 'markdown',
      scheme,
    })),
    initializationOptions: serverSettings(),
    // Sends workspace/didChangeConfiguration with `{ jointReview: ... }` whenever a setting
    // under jointReview changes: the server re-checks open documents, no restart.
    synchronize: { configurationSection: SECTION },
    outputChannel: output,
  };
  client = new LanguageClient(SECTION, 'Joint Review', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (e) {
    const message = `joint-review-lsp (${found.path}) did not start: ${e instanceof Error ? e.message : String(e)}`;
    output.appendLine(message);
    void vscode.window.showErrorMessage(message, 'Show Output').then((c) => c && output.show());
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (e) {
      output.appendLine(`Stopping the server failed: ${String(e)}`);
    }
  }
}

async function newFromTemplate(context: vscode.ExtensionContext, outline: Outline): Promise<void> {
  const project = await vscode.window.showInputBox({
    title: `New ${outline} from the CNCF TAG-Security template`,
    prompt: "The project's name (leave empty to keep the [Project] placeholder)",
  });
  if (project === undefined) {
    return;
  }
  const file = path.join(context.extensionPath, 'templates', `${outline}.md`);
  const template = await fs.promises.readFile(file, 'utf8');
  const content = fromTemplate(outline, template, project);
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(document);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Joint Review');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('jointReview.restartServer', async () => {
      await stop();
      await start(context);
    }),
    vscode.commands.registerCommand('jointReview.showOutput', () => output.show()),
    vscode.commands.registerCommand('jointReview.newJointReview', () =>
      newFromTemplate(context, 'joint-review'),
    ),
    vscode.commands.registerCommand('jointReview.newJointAssessment', () =>
      newFromTemplate(context, 'joint-assessment'),
    ),
    vscode.commands.registerCommand('jointReview.newSelfAssessment', () =>
      newFromTemplate(context, 'self-assessment'),
    ),
    vscode.commands.registerCommand('jointReview.insertMissingSections', insertMissingSections),
    vscode.commands.registerCommand('jointReview.updateTableOfContents', updateTableOfContents),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      // Which binary runs is only read at start: restart for those; the rest is synchronized.
      if (e.affectsConfiguration('jointReview.server')) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export function deactivate(): Promise<void> {
  return stop();
}
