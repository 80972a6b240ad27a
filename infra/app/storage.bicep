// The app's storage account: tables, queues and blob containers, identity access only.
// Shared-key access is off: the Function App, the Functions host and operators all use
// Entra ID (RBAC data roles, see rbac.bicep). Azurite is the local stand-in.

@description('Storage account name (3-24 lower-case letters and digits).')
param name string
param location string
param tags object = {}

@description('Tables the app reads and writes (shared/config.py *_TABLE).')
param tableNames array

@description('Queues: the run work queue, its poison queue and the notifications queue.')
param queueNames array

@description('Blob containers: the app payload containers and the Flex deployment container.')
param containerNames array

@allowed([
  'Allow'
  'Deny'
])
@description('Network default: Allow (RBAC alone guards the data, the default) or Deny (only the rules below and trusted Azure services get through; the app then needs VNet integration in an allowed subnet). SECURITY.md')
param networkDefaultAction string = 'Allow'

@description('Public IP ranges (CIDR) allowed when the default is Deny, e.g. an operator network.')
param allowedIpRanges array = []

@description('Subnet resource ids allowed when the default is Deny (the app\'s VNet integration subnet).')
param allowedSubnetIds array = []

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: networkDefaultAction
      ipRules: [for range in allowedIpRanges: {
        value: range
        action: 'Allow'
      }]
      virtualNetworkRules: [for subnet in allowedSubnetIds: {
        id: subnet
        action: 'Allow'
      }]
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containerNames: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in queueNames: {
  parent: queueService
  name: queue
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in tableNames: {
  parent: tableService
  name: table
}]

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
