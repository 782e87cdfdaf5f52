/**
 * Sign-in from inside the chat (issue 9): when a request of an OAuth endpoint fails with
 * AUTH_REQUIRED and the client declared URL-mode elicitation (MCP 2025-11-25 client/elicitation,
 * capability `elicitation: { url: {} }`), the engine asks that client, with one
 * `elicitation/create` (`mode: "url"`), to open the authorization URL of the same sign-in as
 * `mcp-tether login` ({@link OAuthCredentials.login}: discovery, PKCE, the loopback redirect that
 * proves the user who opened it). One sign-in and one elicitation per endpoint, however many
 * sessions ask: later requests wait for the sign-in under way. Once the tokens arrive the client
 * gets `notifications/elicitation/complete` and the waiting requests are sent again (by
 * relay/resilience.ts). A client that declines gets AUTH_REQUIRED. The URL carries no credential
 * (the client never sees a token, as the spec requires).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import type { JsonRpcMessage } from '../../common/jsonrpc.js';

/** How long an in-chat sign-in may take, from the URL to the redirect (ms). */
export const IN_CHAT_SIGN_IN_TIMEOUT_MS = 300_000;

/** The client session a sign-in is asked of. */
export interface SignInAsker {
  /** Sends `elicitation/create` to the client and resolves its answer. */
  elicit(params: Record<string, unknown>): Promise<JsonRpcMessage>;
  /** Sends a notification to the client. */
  notify(method: string, params: Record<string, unknown>): void;
  /** Records a traffic event. */
  event(type: string, detail: string): void;
}

/** Starts (or joins) the endpoint's sign-in; `onUrl` gets the authorization URL. */
export type StartLogin = (onUrl: (url: string) => void) => Promise<unknown>;

/** True when an `initialize` request's params declare URL-mode elicitation (MCP 2025-11-25). */
export function declaresUrlElicitation(initializeParams: unknown): boolean {
  const e = (initializeParams as { capabilities?: { elicitation?: { url?: unknown } } } | undefined)
    ?.capabilities?.elicitation;
  return typeof e?.url === 'object' && e.url !== null;
}

const perEndpoint = new WeakMap<object, InChatSignIn>();

/** See the module comment; one per endpoint ({@link InChatSignIn.of}). */
export class InChatSignIn {
  private running: Promise<void> | undefined;

  private constructor(private readonly endpoint: string) {}

  /** The in-chat sign-in of the endpoint `key` (named `name`). */
  static of(key: object, name: string): InChatSignIn {
    let s = perEndpoint.get(key);
    if (!s) perEndpoint.set(key, (s = new InChatSignIn(name)));
    return s;
  }

  /**
   * Joins the sign-in under way, or starts one and asks `asker`'s client to open its URL.
   * @throws TetherError AUTH_REQUIRED (declined in the client), and what `login` throws
   *   (AUTH_FAILED, UPSTREAM_UNREACHABLE, KEYCHAIN_UNAVAILABLE)
   */
  signIn(login: StartLogin, asker: SignInAsker): Promise<void> {
    this.running ??= this.run(login, asker).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private run(login: StartLogin, asker: SignInAsker): Promise<void> {
    const elicitationId = randomUUID();
    return new Promise<void>((resolve, reject) => {
      let asked = false;
      const signedIn = login((url) => {
        if (asked) return;
        asked = true;
        asker.event('sign-in', `asked the client to open the sign-in page of ${this.endpoint}`);
        asker
          .elicit({
            mode: 'url',
            elicitationId,
            url,
            message: `${this.endpoint} needs you to sign in (MCP Tether). Open the page to sign in; the request goes on once you have.`,
          })
          .then(
            (answer) => {
              const action = (answer.result as { action?: unknown } | undefined)?.action;
              if (action === 'accept') return;
              const what = answer.error
                ? `refused (${answer.error.message})`
                : `answered "${String(action)}"`;
              reject(
                new TetherError(
                  ErrorCode.AUTH_REQUIRED,
                  `the sign-in to ${this.endpoint} was ${what} in the client`,
                  {
                    hint: `Sign in: mcp-tether login ${this.endpoint}`,
                  },
                ),
              );
            },
            (err: unknown) =>
              reject(
                new TetherError(
                  ErrorCode.AUTH_REQUIRED,
                  `the client asked to sign in to ${this.endpoint} did not answer (${errorMessage(err)})`,
                  { hint: `Sign in: mcp-tether login ${this.endpoint}` },
                  { cause: err },
                ),
              ),
          );
      });
      signedIn.then(() => {
        asker.notify('notifications/elicitation/complete', { elicitationId });
        asker.event('sign-in', `signed in to ${this.endpoint} from the chat`);
        resolve();
      }, reject);
    });
  }
}
