// Intune operation runs on Azure: Flex Consumption Function App (Python 3.11) with a
// system-assigned identity, its storage (tables, queues, containers), Key Vault for the
// Graph credentials, Application Insights on Log Analytics, RBAC and App Service
// Authentication. No connection string or secret appears in any app setting: storage is
// identity-based (AzureWebJobsStorage__*), secrets are Key Vault references.
//
// Deploy: az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json
// (or `azd provision`). See docs/deploying.md.

targetScope = 'resourceGroup'

// Bicep has no pattern check, so the names Azure restricts most (storage account: 3-24
// lower-case letters and digits; Key Vault: 3-24, a letter first, no trailing or double
// hyphen) do not embed it: a fixed prefix and the 13-character token.
// tests/infra/test_names.py evaluates every name over edge-case environment names.
@minLength(1)
@maxLength(20)
@description('Short environment name (letters, digits and hyphens, as azd allows): part of the resource names and the azd-env-name tag.')
param environmentName string

param location string = resourceGroup().location

@description('Browser origins of the portal allowed by CORS (https://portal.example.com).')
param portalOrigins array = []

@description('Client id of the API app registration (docs/entra-apps.md).')
param apiClientId string

@description('App ID URI of the API app registration, e.g. api://intune-runs.')
param apiAudience string

@description('Tenants whose users may call the API: comma-separated ids, or * for any.')
param authTrustedTenants string = subscription().tenantId

@description('Tenant the operators sign in to for the monitoring page.')
param signInTenantId string = subscription().tenantId

@description('Key Vault secret holding the API app client secret (on-behalf-of, Easy Auth).')
param apiClientSecretName string = 'api-client-secret'

@description('Graph credentials per managed tenant: [{settingName, secretName}]. A Tenants row names settingName as its Graph credential or certificate setting.')
param graphCredentials array = []

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@minValue(1)
@description('Completed runs older than this many days are purged by the retention timer.')
param runRetentionDays int = 90

@description('Notification channels per event (comma-separated: in_app, email, teams).')
param notifyQueuedChannels string = 'in_app'
param notifyCompletedChannels string = 'in_app,email,teams'

@description('Mailbox (UPN) that sends run emails; empty: no email channel.')
param notifyMailSender string = ''

@description('Tenant and client id of the mail-sender app registration (Mail.Send application).')
param notifyMailTenantId string = subscription().tenantId
param notifyMailClientId string = ''

@description('Key Vault secret with the mail-sender app client secret.')
param notifyMailSecretName string = 'notify-mail-client-secret'

@description('Key Vault secret with the Teams Workflows webhook URL; empty: no Teams channel.')
param notifyTeamsWebhookSecretName string = ''

// Network rules for storage and Key Vault. The default, Allow, leaves them reachable from
// anywhere with RBAC (Entra ID, no keys) as the only guard; Deny needs the Function App in
// a VNet (integration subnet listed below). SECURITY.md, "Network rules".
@allowed([
  'Allow'
  'Deny'
])
@description('Storage and Key Vault network default: Allow (RBAC only) or Deny (rules below).')
param networkDefaultAction string = 'Allow'

@description('Public IP ranges (CIDR) allowed to storage and Key Vault when the default is Deny.')
param networkAllowedIpRanges array = []

@description('Subnet ids allowed to storage and Key Vault when the default is Deny (the app\'s VNet integration subnet).')
param networkAllowedSubnetIds array = []

@description('Optional object id of an operator (user/group) who seeds tables and sets secrets.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
  application: 'intune-operation-runs'
}
var envName = toLower(environmentName)
var functionAppName = 'func-${envName}-${token}'
var keyVaultName = 'kv-${token}'
var storageAccountName = 'st${token}'
var deploymentContainerName = 'app-package-${take(token, 8)}'

// Names the app uses (shared/config.py); tests/infra holds these lists against the code.
var tableNames = [
  'OperationRuns'
  'Tenants'
  'EntraGroups'
  'PolicyInventory'
  'BackupSets'
  'RestoreLedger'
  'TenantMembers'
  'MemberTenants'
  'Notifications'
  'NotificationDeliveries'
  'NotificationPreferences'
  'QueueHealth'
  'TenantSummaries'
]
var queueNames = [
  'operation-runs'
  'operation-runs-poison'
  'notifications'
]
var appContainerNames = [
  'policy-payloads'
  'backup-payloads'
]

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    name: storageAccountName
    location: location
    tags: tags
    tableNames: tableNames
    queueNames: queueNames
    containerNames: concat(appContainerNames, [
      deploymentContainerName
    ])
    networkDefaultAction: networkDefaultAction
    allowedIpRanges: networkAllowedIpRanges
    allowedSubnetIds: networkAllowedSubnetIds
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${envName}-${token}'
    applicationInsightsName: 'appi-${envName}-${token}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: keyVaultName
    location: location
    tags: tags
    networkDefaultAction: networkDefaultAction
    allowedIpRanges: networkAllowedIpRanges
    allowedSubnetIds: networkAllowedSubnetIds
  }
}

module function 'app/function.bicep' = {
  name: 'function'
  params: {
    planName: 'plan-${envName}-${token}'
    appName: functionAppName
    location: location
    tags: tags
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    corsAllowedOrigins: portalOrigins
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    functionPrincipalId: function.outputs.principalId
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

var apiClientSecretReference = '@Microsoft.KeyVault(VaultName=${keyVault.outputs.name};SecretName=${apiClientSecretName})'

// Every application setting. Names match shared/config.py Settings and
// local.settings.sample.json (tests/infra/test_consistency.py keeps them in step).
var appSettings = {
  // Identity-based host and app storage: no connection string anywhere.
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
  // Telemetry; with local auth off, ingestion also needs the app's Entra token.
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  // The run flow.
  RUN_LEASE_SECONDS: '600'
  RUN_STALE_QUEUED_SECONDS: '3600'
  RUN_REDISPATCH_SECONDS: '10'
  RUN_DISPATCH_LOST_SECONDS: '60'
  RUN_MAX_REDISPATCHES: '3'
  RUN_MAX_RETRY_AFTER_SECONDS: '300'
  RUN_PROGRESS_MIN_INTERVAL_SECONDS: '2'
  RUN_RETENTION_DAYS: string(runRetentionDays)
  RETENTION_MAX_RUNS_PER_INVOCATION: '2000'
  AUTO_PROVISION_STORAGE: 'false'
  ENABLE_DIAGNOSTIC_RUN_TYPES: 'false'
  PUBLIC_BASE_URL: 'https://${function.outputs.defaultHostName}'
  // Entra and Graph (public cloud).
  GRAPH_AUTHORITY_BASE_URL: 'https://login.microsoftonline.com'
  GRAPH_BASE_URL: 'https://graph.microsoft.com'
  // Our API's app registration.
  API_AUDIENCE: apiAudience
  API_CLIENT_ID: apiClientId
  API_CLIENT_SECRET: apiClientSecretReference
  AUTH_TRUSTED_TENANTS: authTrustedTenants
  // Trusted only while App Service Authentication is on (it sets WEBSITE_AUTH_ENABLED).
  AUTH_TRUST_APP_SERVICE_PRINCIPAL: 'true'
  // Origins whose browser requests may change state, beside the app's own (CORS's list).
  ALLOWED_ORIGINS: join(portalOrigins, ',')
  MEMBERSHIP_CACHE_SECONDS: '30'
  OVERVIEW_REFRESH_DELAY_SECONDS: '2'
  // Notifications: in-app always; email and Teams only when configured (an empty value
  // leaves the channel off; a Key Vault reference to a missing secret would not).
  NOTIFY_QUEUED_CHANNELS: notifyQueuedChannels
  NOTIFY_COMPLETED_CHANNELS: notifyCompletedChannels
  NOTIFY_MAIL_SENDER: notifyMailSender
  NOTIFY_MAIL_TENANT_ID: notifyMailTenantId
  NOTIFY_MAIL_CLIENT_ID: notifyMailClientId
  NOTIFY_MAIL_CLIENT_SECRET: empty(notifyMailClientId) ? '' : '@Microsoft.KeyVault(VaultName=${keyVault.outputs.name};SecretName=${notifyMailSecretName})'
  NOTIFY_TEAMS_WEBHOOK_URL: empty(notifyTeamsWebhookSecretName) ? '' : '@Microsoft.KeyVault(VaultName=${keyVault.outputs.name};SecretName=${notifyTeamsWebhookSecretName})'
  NOTIFY_MAX_ATTEMPTS: '6'
  NOTIFY_SEND_LEASE_SECONDS: '300'
  NOTIFY_RETRY_BASE_SECONDS: '30'
  // App Service Authentication's client secret (read by the platform, not the app).
  MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: apiClientSecretReference
}

module settings 'app/appsettings.bicep' = {
  name: 'appsettings'
  params: {
    appName: function.outputs.name
    keyVaultName: keyVault.outputs.name
    settings: appSettings
    graphCredentials: graphCredentials
  }
  dependsOn: [
    rbac
  ]
}

module auth 'app/auth.bicep' = {
  name: 'auth'
  params: {
    appName: function.outputs.name
    clientId: apiClientId
    apiAudience: apiAudience
    signInTenantId: signInTenantId
    clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'
  }
  dependsOn: [
    settings
  ]
}

output AZURE_LOCATION string = location
output FUNCTION_APP_NAME string = function.outputs.name
output FUNCTION_APP_URL string = 'https://${function.outputs.defaultHostName}'
output FUNCTION_APP_PRINCIPAL_ID string = function.outputs.principalId
output MONITORING_URL string = 'https://${function.outputs.defaultHostName}/monitoring/'
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output DEPLOYMENT_CONTAINER_NAME string = deploymentContainerName
output KEY_VAULT_NAME string = keyVault.outputs.name
output KEY_VAULT_URI string = keyVault.outputs.uri
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.logAnalyticsWorkspaceId
