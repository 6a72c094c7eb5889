// `npm run docs`: regenerates the path and field reference in README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { apiReferenceMarkdown, replaceSection } from './lib/api-reference';

const readmePath = path.resolve(__dirname, '..', 'README.md');
fs.writeFileSync(readmePath, replaceSection(fs.readFileSync(readmePath, 'utf8'), apiReferenceMarkdown()));
console.log(`updated ${path.relative(process.cwd(), readmePath)}`);
