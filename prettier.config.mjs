// One Prettier configuration for the whole workspace; the settings live in tooling/prettier-config.
export { default } from './tooling/prettier-config/index.mjs';
