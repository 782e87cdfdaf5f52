/**
 * What OAuth discovery found (the authorization server and how), shared by the interactive sign-in
 * (oauth.ts) and the machine grants (machine.ts).
 */
import type {
  AuthorizationServerMetadata,
  OAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * How discovery found the authorization server: RFC 9728 protected-resource metadata (MCP
 * 2025-06-18 and later), or, for a server without it (MCP 2025-03-26), RFC 8414 metadata at the
 * MCP server's origin, or that revision's default endpoints there.
 */
export type DiscoveryPath = 'protected-resource-metadata' | 'server-origin-metadata' | 'default-endpoints';

/** What discovery found and checked. */
export interface Discovery {
  /** The authorization server's issuer identifier (checked against its metadata). */
  issuer: string;
  metadata: AuthorizationServerMetadata;
  how: DiscoveryPath;
  /** Absent for a 2025-03-26 server. */
  resourceMetadata?: OAuthProtectedResourceMetadata;
  resourceMetadataUrl?: string;
  /** The RFC 8707 resource indicator: the protected resource metadata's `resource`, verbatim. */
  resource?: string;
  /** The scope to ask for, when anything says which. */
  scope?: string;
}
