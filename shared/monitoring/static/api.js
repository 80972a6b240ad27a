// Same-origin API calls with the Easy Auth session cookie. Writes always send a JSON body
// with its content type (the API's CSRF rule: state changes only as application/json).

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error && body.error.code;
  }
}

export function signIn() {
  const back = encodeURIComponent(location.pathname + location.hash);
  location.assign(`/.auth/login/aad?post_login_redirect_uri=${back}`);
}

export async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  const init = { credentials: "same-origin", headers, method: options.method || "GET" };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (_) {
    throw new ApiError(0, { error: { message: "the server could not be reached" } });
  }
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (response.status === 401) { signIn(); throw new ApiError(401, body); }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export const post = (path, json = {}) => api(path, { method: "POST", json });
export const put = (path, json) => api(path, { method: "PUT", json });

export async function whoAmI() {
  const response = await fetch("/.auth/me", { credentials: "same-origin" });
  if (!response.ok) return null;
  const body = await response.json();
  const principal = Array.isArray(body) ? body[0] : body && body.clientPrincipal;
  if (!principal) return null;
  const claims = principal.user_claims || [];
  const claim = (...names) => {
    const found = claims.find((c) => names.includes(c.typ));
    return found ? found.val : null;
  };
  return {
    id: claim("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"),
    name: claim("name") || principal.user_id || "signed in",
    username: claim("preferred_username") || principal.user_id || "",
  };
}

export const tenantPath = (tenantId) => `/api/tenants/${encodeURIComponent(tenantId)}`;
