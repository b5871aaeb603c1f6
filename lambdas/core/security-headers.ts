/**
 * The web security headers, in one place for every runtime: the API's responses (Lambda and local
 * adapter), the portal served by local mode, and CloudFront's response headers policy.
 */

/** On every response, API and portal alike: no MIME sniffing, no Referer leaving the portal. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** The portal page may not be framed (clickjacking); CSP's frame-ancestors says it to new browsers. */
export const FRAME_OPTIONS = 'DENY';

/** The portal needs none of these devices or APIs. */
export const PERMISSIONS_POLICY = 'camera=(), microphone=(), geolocation=(), payment=()';

/** HSTS (CloudFront only: browsers ignore it over plain HTTP): two years, subdomains, preload. */
export const HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 3600;

/**
 * The portal's Content-Security-Policy. No inline script or style: the portal's build loads its
 * script and stylesheet from files, and sets styles through the DOM (CSSOM), never `style` attributes
 * in markup. It talks only to itself, the API and the uploads bucket (`connectSources`); its header
 * and hash workers load from its own origin (Vite emits them as files). `'wasm-unsafe-eval'` lets the
 * hash worker compile hash-wasm's WebAssembly; it allows no JavaScript eval.
 */
export function portalContentSecurityPolicy(connectSources: readonly string[], options: { upgradeInsecureRequests?: boolean } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    ["connect-src 'self'", ...connectSources].join(' '),
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(options.upgradeInsecureRequests ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}
