// Copies the CNCF TAG-Security templates (CC BY 4.0) and their attribution from the repo's
// grammars/ into templates/, for the "new ... from template" commands. Run by vscode:prepublish.
const fs = require('fs');
const path = require('path');

const from = path.join(__dirname, '..', '..', '..', 'grammars');
const to = path.join(__dirname, '..', 'templates');
fs.mkdirSync(to, { recursive: true });
for (const name of ['joint-review.md', 'joint-assessment.md', 'self-assessment.md', 'ATTRIBUTION.md']) {
  fs.copyFileSync(path.join(from, name), path.join(to, name));
}
