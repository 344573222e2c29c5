/** The agent's version, from package.json (bundled at build time). */
import packageJson from '../package.json' with { type: 'json' };

export const AGENT_VERSION: string = packageJson.version;
