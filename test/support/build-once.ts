/**
 * Vitest global setup: build the CLI bundle and the dashboard (scripts/build.mjs builds both)
 * once, so parallel test files never race to build them.
 */
export default async function setup(): Promise<void> {
  // @ts-expect-error -- a plain ESM script without type declarations; importing it runs the build.
  await import('../../scripts/build.mjs');
}
