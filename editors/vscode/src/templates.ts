// New documents from the CNCF TAG-Security templates (CC BY 4.0, see templates/ATTRIBUTION.md
// in the extension): the template's text from its outline's root heading on, with the root
// heading as the document's title (level 1) and every heading shifted by the same amount.
// No `vscode` import, so the unit tests run it under plain node.

export type Outline = 'joint-review' | 'joint-assessment' | 'self-assessment';

interface Shape {
  /** The heading text the outline starts under (see grammars/<name>.json, `root_heading`). */
  root: RegExp;
  title: (project: string) => string;
}

const SHAPES: Record<Outline, Shape> = {
  'joint-review': { root: /^joint-review of \[project\]$/i, title: (p) => `Joint-review of ${p}` },
  'joint-assessment': {
    root: /^joint-assessment of \[project\]$/i,
    title: (p) => `Joint-assessment of ${p}`,
  },
  'self-assessment': { root: /^self-assessment outline$/i, title: (p) => `${p} Self-assessment` },
};

const HEADING = /^(#{1,6})([ \t]+.*)?$/;

/**
 * The new document's text for `outline`, given the template's Markdown. `project` replaces the
 * `[Project]` placeholder when given; otherwise the placeholder stays for the author (and the
 * `template-text` rule points at it).
 */
export function fromTemplate(outline: Outline, template: string, project?: string): string {
  const shape = SHAPES[outline];
  const lines = template.split(/\r\n|\n|\r/);
  const start = lines.findIndex((line) => {
    const m = HEADING.exec(line);
    return m !== null && shape.root.test((m[2] ?? '').trim());
  });
  if (start < 0) {
    throw new Error(`the ${outline} template has no root heading`);
  }
  const shift = (HEADING.exec(lines[start])?.[1].length ?? 1) - 1;
  const name = project && project.trim() !== '' ? project.trim() : '[Project]';
  const body = lines.slice(start + 1).map((line) => {
    const m = HEADING.exec(line);
    if (!m || shift === 0) {
      return line;
    }
    return '#'.repeat(Math.max(1, m[1].length - shift)) + (m[2] ?? '');
  });
  let text = [`# ${shape.title(name)}`, ...body].join('\n');
  if (project && project.trim() !== '') {
    text = text.split('[Project]').join(name);
  }
  return text.replace(/\n*$/, '\n');
}
