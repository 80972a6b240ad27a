// Key Vault in RBAC mode: the Graph app credentials (PEM private keys of the per-tenant
// Graph apps, or client secrets), the API app's client secret for on-behalf-of and
// App Service Authentication. The Function App reads them through Key Vault references
// (`@Microsoft.KeyVault(VaultName=...;SecretName=...)`) with its system-assigned identity.
// Secrets are put in by an operator after deployment (docs/deploying.md), never by Bicep.

param name string
param location string
param tags object = {}

@description('Entra tenant of the vault (the subscription tenant).')
param tenantId string = subscription().tenantId

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
