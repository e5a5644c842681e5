// The Prettier settings of the vid workspace (see docs/decisions/formatter-prettier.md).
// 120 columns keep a shape comment and its expression on one line; the rest is Prettier's default
// style, which the tree already follows (single quotes, semicolons, trailing commas).

/** @type {import('prettier').Config} */
const config = {
  printWidth: 120,
  singleQuote: true,
  trailingComma: 'all',
  arrowParens: 'always',
  endOfLine: 'lf',
  overrides: [{ files: ['*.md'], options: { proseWrap: 'preserve' } }],
};

export default config;
