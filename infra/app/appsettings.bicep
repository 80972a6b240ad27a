// The Function App's application settings, applied as one `appsettings` config resource
// (it replaces the whole set: every setting the app needs is named in main.bicep).
// Per-tenant Graph credential settings are Key Vault references generated from
// `graphCredentials`; their names are what the Tenants rows refer to.

param appName string
param keyVaultName string

@description('Static settings (name -> value) from main.bicep.')
param settings object

@description('[{settingName, secretName}]: one Key Vault reference per managed tenant Graph credential.')
param graphCredentials array = []

var graphCredentialSettings = toObject(graphCredentials, cred => cred.settingName, cred => '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${cred.secretName})')

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(settings, graphCredentialSettings)
}
