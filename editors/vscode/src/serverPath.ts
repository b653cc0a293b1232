// Which joint-review-lsp binary to start: the setting, else the one bundled in the extension,
// else PATH (and ~/.cargo/bin, where `cargo install` puts it but a desktop session's PATH
// often does not reach). No `vscode` import, so the unit tests run it under plain node.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const BINARY = process.platform === 'win32' ? 'joint-review-lsp.exe' : 'joint-review-lsp';

export interface Lookup {
  /** `jointReview.server.path` as set (may be empty). */
  setting: string;
  /** The extension's own folder (the bundled binary is `server/joint-review-lsp` in it). */
  extensionPath: string;
  /** The first workspace folder, for a relative setting. */
  workspaceFolder?: string;
  /** `PATH` to search. */
  envPath?: string;
  home?: string;
}

export type Found =
  | { ok: true; path: string; source: 'setting' | 'bundled' | 'PATH' | '~/.cargo/bin' }
  | { ok: false; message: string };

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The setting, made absolute: `~` is the home folder, relative is to the workspace folder. */
export function expandSetting(setting: string, home: string, workspaceFolder?: string): string {
  let p = setting.trim();
  if (p === '~' || p.startsWith('~/')) {
    p = path.join(home, p.slice(1));
  }
  if (!path.isAbsolute(p) && p.includes(path.sep) && workspaceFolder) {
    p = path.join(workspaceFolder, p);
  }
  return p;
}

function onPath(name: string, envPath: string): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) {
      return path.join(dir, name);
    }
  }
  return undefined;
}

export function findServer(lookup: Lookup): Found {
  const home = lookup.home ?? os.homedir();
  const envPath = lookup.envPath ?? process.env.PATH ?? '';
  if (lookup.setting.trim() !== '') {
    const wanted = expandSetting(lookup.setting, home, lookup.workspaceFolder);
    // A bare name (no separator) is looked up on PATH, as a shell would.
    const resolved = wanted.includes(path.sep) ? wanted : onPath(wanted, envPath);
    if (resolved && isExecutable(resolved)) {
      return { ok: true, path: resolved, source: 'setting' };
    }
    return {
      ok: false,
      message:
        `jointReview.server.path is set to "${lookup.setting}", but ${resolved ?? wanted} ` +
        `is not an executable file. Fix the setting, or clear it to use the bundled server or ` +
        `joint-review-lsp on PATH.`,
    };
  }
  const bundled = path.join(lookup.extensionPath, 'server', BINARY);
  if (isExecutable(bundled)) {
    return { ok: true, path: bundled, source: 'bundled' };
  }
  const fromPath = onPath(BINARY, envPath);
  if (fromPath) {
    return { ok: true, path: fromPath, source: 'PATH' };
  }
  const cargo = path.join(home, '.cargo', 'bin', BINARY);
  if (isExecutable(cargo)) {
    return { ok: true, path: cargo, source: '~/.cargo/bin' };
  }
  return {
    ok: false,
    message:
      'joint-review-lsp was not found: this extension has no bundled server for this ' +
      'platform and joint-review-lsp is neither on PATH nor in ~/.cargo/bin. Install it ' +
      '(`cargo install --path server` in a clone of joint-review-lsp) or set ' +
      'jointReview.server.path.',
  };
}
