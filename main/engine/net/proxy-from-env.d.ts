/** Types of the proxy-from-env library (it ships none). */
declare module 'proxy-from-env' {
  /**
   * The proxy URL for `url` from `<scheme>_proxy` / `all_proxy` (either case), or '' when none
   * applies or `no_proxy` matches the host.
   */
  export function getProxyForUrl(url: string | URL): string;
}
