// Unit tests of the extension's plain parts (no VS Code needed): finding the server binary,
// new documents from the templates (checked by the real server), and the settings schema.
// Run after `npm run compile` (vsce package does it): node --test test/unit/
'use strict';
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const { findServer, expandSetting } = require('../../out/serverPath');
const { fromTemplate } = require('../../out/templates');

const repo = path.join(__dirname, '..', '..', '..', '..');
const server = process.env.JOINT_REVIEW_LSP || path.join(repo, 'target', 'release', 'joint-review-lsp');

const scratchDirs = [];
test.after(() => scratchDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jr-unit-'));
  scratchDirs.push(dir);
  const exe = (p) => {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, '#!/bin/sh\n');
    fs.chmodSync(p, 0o755);
    return p;
  };
  return { dir, exe };
}

test('the setting wins, then the bundled binary, then PATH, then ~/.cargo/bin', () => {
  const { dir, exe } = scratch();
  const ext = path.join(dir, 'ext');
  const onPath = exe(path.join(dir, 'bin', 'joint-review-lsp'));
  const cargo = exe(path.join(dir, 'home', '.cargo', 'bin', 'joint-review-lsp'));
  const mine = exe(path.join(dir, 'mine', 'jr'));
  const base = { extensionPath: ext, envPath: path.join(dir, 'bin'), home: path.join(dir, 'home') };

  assert.deepEqual(findServer({ ...base, setting: mine }), { ok: true, path: mine, source: 'setting' });
  assert.deepEqual(findServer({ ...base, setting: '' }), { ok: true, path: onPath, source: 'PATH' });
  const bundled = exe(path.join(ext, 'server', 'joint-review-lsp'));
  assert.deepEqual(findServer({ ...base, setting: '' }), { ok: true, path: bundled, source: 'bundled' });
  fs.rmSync(bundled);
  assert.deepEqual(findServer({ ...base, setting: '', envPath: '' }), {
    ok: true,
    path: cargo,
    source: '~/.cargo/bin',
  });
  // A bare name in the setting is looked up on PATH.
  assert.deepEqual(findServer({ ...base, setting: 'joint-review-lsp' }), {
    ok: true,
    path: onPath,
    source: 'setting',
  });
});

test('says clearly when no binary is found', () => {
  const { dir } = scratch();
  const none = findServer({ setting: '', extensionPath: dir, envPath: dir, home: dir });
  assert.equal(none.ok, false);
  assert.match(none.message, /joint-review-lsp was not found/);
  assert.match(none.message, /cargo install --path server/);
  assert.match(none.message, /jointReview\.server\.path/);
  const wrong = findServer({ setting: '/nowhere/jr', extensionPath: dir, envPath: dir, home: dir });
  assert.equal(wrong.ok, false);
  assert.match(wrong.message, /jointReview\.server\.path is set to "\/nowhere\/jr"/);
});

test('~ and workspace-relative paths in the setting', () => {
  assert.equal(expandSetting('~/bin/jr', '/home/u'), '/home/u/bin/jr');
  assert.equal(expandSetting('tools/jr', '/home/u', '/ws'), '/ws/tools/jr');
  assert.equal(expandSetting('/abs/jr', '/home/u', '/ws'), '/abs/jr');
});

for (const outline of ['joint-review', 'joint-assessment', 'self-assessment']) {
  test(`a new ${outline} from the template follows its outline`, () => {
    const template = fs.readFileSync(path.join(repo, 'grammars', `${outline}.md`), 'utf8');
    const text = fromTemplate(outline, template, 'Lanternfish');
    assert.equal(text.split('\n')[0].startsWith('# '), true);
    assert.equal(text.includes('[Project]'), false);
    // The real server checks it: the outline is detected from the title, and every section is
    // there, in order, at its level (the guidance text left in is the author's to replace).
    // Exit status 1 is fine: the template's own text has errors (its `#goals` link).
    const run = spawnSync(server, ['check', '--format', 'json', '-'], { input: text });
    assert.ok(run.status === 0 || run.status === 1, `check failed: ${run.stderr}`);
    const [report] = JSON.parse(run.stdout.toString());
    assert.equal(report.outline, outline);
    const structural = report.diagnostics.filter((d) =>
      ['missing-section', 'section-order', 'heading-level', 'duplicate-section'].includes(d.code),
    );
    assert.deepEqual(structural, []);
  });
}

test('the severity setting offers exactly the server rules', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const schema = manifest.contributes.configuration.properties['jointReview.severity'];
  const source = fs.readFileSync(path.join(repo, 'server', 'src', 'analysis', 'diagnostics.rs'), 'utf8');
  const codes = [...source.matchAll(/Code::\w+ => "([a-z-]+)"/g)].map((m) => m[1]);
  assert.equal(codes.length, 9);
  assert.deepEqual(Object.keys(schema.properties).sort(), codes.sort());
  for (const code of codes) {
    assert.deepEqual(schema.properties[code].enum, ['error', 'warning', 'information', 'hint', 'off']);
  }
});
