/** Vitest global setup: build the CLI bundle once, so parallel test files never race to build it. */
export default async function setup(): Promise<void> {
  // @ts-expect-error -- a plain ESM script without type declarations; importing it runs the build.
  await import('../../scripts/build.mjs');
}
