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

@allowed([
  'Allow'
  'Deny'
])
@description('Network default: Allow (RBAC alone guards the secrets, the default) or Deny (only the rules below and trusted Azure services; Key Vault references then need the app\'s VNet integration subnet listed). SECURITY.md')
param networkDefaultAction string = 'Allow'

@description('Public IP ranges (CIDR) allowed when the default is Deny (operators setting secrets).')
param allowedIpRanges array = []

@description('Subnet resource ids allowed when the default is Deny (the app\'s VNet integration subnet).')
param allowedSubnetIds array = []

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
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: networkDefaultAction
      ipRules: [for range in allowedIpRanges: {
        value: range
      }]
      virtualNetworkRules: [for subnet in allowedSubnetIds: {
        id: subnet
        ignoreMissingVnetServiceEndpoint: false
      }]
    }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
