// App Service Authentication (Easy Auth, authsettingsV2) with the Entra ID provider.
//
// Why RedirectToLoginPage with excludedPaths ['/api/*']:
// - /monitoring/ (and anything else that is not the API) needs a signed-in user: an
//   unauthenticated browser is redirected to the Entra sign-in page, and after sign-in a
//   session cookie carries the user. App Service builds X-MS-CLIENT-PRINCIPAL from the
//   ID token. The token store is per instance on Flex Consumption, so the app never uses
//   the stored access token: a cookie session is not delegated (group search is for
//   bearer callers). The store stays on for /.auth/me, which the page reads.
// - /api/* is excluded from the redirect: API callers (the portal's SPA, automation
//   daemons) send their own bearer token, which the app validates itself (JWKS,
//   issuer, audience, expiry) and authorizes through TenantMembers. An API client must
//   get a JSON 401 from the app, never a 302 to a login page. GET /api/health stays
//   anonymous. When the page itself calls /api/* with its session cookie, App Service
//   still injects the principal headers, which the app trusts only because
//   AUTH_TRUST_APP_SERVICE_PRINCIPAL is true where App Service fronts it.
// AllowAnonymous for the whole app would leave /monitoring/ reachable without sign-in
// (the page reads nothing sensitive by itself, but the brief puts it behind login);
// Return401 would break browser navigation to the page.

param appName string

@description('Client id of the API app registration (also the Easy Auth client).')
param clientId string

@description('App ID URI of the API app (api://...): the audience of its access tokens.')
param apiAudience string

@description('Tenant the operators (page users) sign in to.')
param signInTenantId string

@description('App setting holding the API app client secret (a Key Vault reference).')
param clientSecretSettingName string

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/api/*'
      ]
    }
    httpSettings: {
      requireHttps: true
      routes: {
        apiPrefix: '/.auth'
      }
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: 'https://login.microsoftonline.com/${signInTenantId}/v2.0'
          clientId: clientId
          clientSecretSettingName: clientSecretSettingName
        }
        login: {
          // A token to our API as well as the ID token (the page's /.auth/me shows the
          // session); offline_access lets /.auth/refresh work. The app never uses it.
          loginParameters: [
            'scope=openid profile email offline_access ${apiAudience}/access_as_user'
          ]
        }
        validation: {
          allowedAudiences: [
            apiAudience
            clientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true
        tokenRefreshExtensionHours: 72
      }
      preserveUrlFragmentsForLogins: true
      cookieExpiration: {
        convention: 'FixedTime'
        timeToExpiration: '08:00:00'
      }
      nonce: {
        validateNonce: true
      }
    }
  }
}
