/**
 * `npm run release` runs this before `npm run dist`: a release build must be signed and, on macOS,
 * notarized. electron-builder notarizes only when Apple credentials are in the environment and
 * otherwise skips the step without failing (app-builder-lib, macPackager: `notarizeIfProvided`),
 * so an unnotarized build, which Gatekeeper refuses to open, would go out unnoticed. The variables
 * are electron-builder's own ("Code Signing" and `mac.notarize` in its documentation).
 */
import { pathToFileURL } from 'node:url';

/**
 * What is missing for a release build on `platform`.
 * @param {NodeJS.Platform} platform
 * @param {Record<string, string | undefined>} env
 * @returns {string[]} one sentence per problem (empty: ready)
 */
export function releaseProblems(platform, env) {
  const has = (...names) => names.every((n) => !!env[n]);
  const problems = [];
  if (platform === 'darwin') {
    if (!has('CSC_LINK') && !has('CSC_NAME'))
      problems.push(
        'macOS release builds are signed with a Developer ID Application certificate: set CSC_LINK (and CSC_KEY_PASSWORD) or CSC_NAME.',
      );
    if (
      !has('APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER') &&
      !has('APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID') &&
      !has('APPLE_KEYCHAIN', 'APPLE_KEYCHAIN_PROFILE')
    )
      problems.push(
        'macOS release builds are notarized: set APPLE_API_KEY, APPLE_API_KEY_ID and APPLE_API_ISSUER (or APPLE_ID, APPLE_APP_SPECIFIC_PASSWORD and APPLE_TEAM_ID, or APPLE_KEYCHAIN and APPLE_KEYCHAIN_PROFILE).',
      );
  }
  if (platform === 'win32' && !has('WIN_CSC_LINK') && !has('CSC_LINK'))
    problems.push(
      'Windows release builds are signed (SmartScreen warns about unsigned installers): set WIN_CSC_LINK (and WIN_CSC_KEY_PASSWORD).',
    );
  return problems;
}

// `node resources/release-check.mjs [--platform darwin|win32|linux]` (default: this OS).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--platform');
  const problems = releaseProblems(at > 0 ? process.argv[at + 1] : process.platform, process.env);
  if (problems.length) {
    process.stderr.write(
      `Not a release build:\n${problems.map((p) => `- ${p}`).join('\n')}\nFor a local, unsigned build run \`npm run dist\`.\n`,
    );
    process.exit(1);
  }
}
