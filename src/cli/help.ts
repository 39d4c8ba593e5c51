/** Help texts (loaded only for `--help`), in clap's layout like Codex's; help goes to stdout, usage errors to stderr with exit 2. */
const CONFIG_OPTION = `  -c, --config <key=value>
          Override a configuration value that would otherwise be loaded from \`~/.codex/config.toml\`.
          Use a dotted path (\`foo.bar.baz\`) to override nested values. The \`value\` portion is parsed
          as TOML. If it fails to parse as TOML, the raw string is used as a literal.`;

const HELP_OPTION = `  -h, --help
          Print help`;

import { USAGE } from "./args.js";

export const ROOT_HELP = `Codex login and account system: login, logout, the app-server and a local dev server

Usage: ${USAGE.root}

Commands:
  login       Manage login
  logout      Remove stored authentication credentials
  app-server  Run the app server (JSON-RPC, one message per line on stdio)
  dev-server  Run a local AuthAPI, OAuth issuer and backend for tests and demos
  help        Print this message or the help of the given subcommand(s)

Options:
${CONFIG_OPTION}

${HELP_OPTION}

  -V, --version
          Print version
`;

export const LOGIN_HELP = `Manage login

Usage: ${USAGE.login}

Commands:
  status  Show login status
  help    Print this message or the help of the given subcommand(s)

Options:
${CONFIG_OPTION}

      --with-api-key
          Read the API key from stdin (e.g. \`printenv OPENAI_API_KEY | codex-auth login --with-api-key\`)

      --with-access-token
          Read the access token from stdin (e.g. \`printenv CODEX_ACCESS_TOKEN | codex-auth login
          --with-access-token\`)

      --device-auth
          Log in with a device code (ChatGPT)

${HELP_OPTION}
`;

export const LOGIN_STATUS_HELP = `Show login status

Usage: ${USAGE.loginStatus}

Options:
${CONFIG_OPTION}

      --json
          Print one JSON object on stdout (authMode, masked credential, email and plan where known)

${HELP_OPTION}
`;

export const LOGOUT_HELP = `Remove stored authentication credentials

Usage: ${USAGE.logout}

Options:
${CONFIG_OPTION}

${HELP_OPTION}
`;
