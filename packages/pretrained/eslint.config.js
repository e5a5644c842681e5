export { default } from '@vid/eslint-config';
