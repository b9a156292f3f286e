// The Mojaloop switch on Azure: one resource group holding the Functions host storage, the Flex
// Consumption function app (custom handler), Event Hubs, MySQL Flexible Server (the ledger),
// Cosmos DB (the message journal), Key Vault, Log Analytics + Application Insights (+ workbook),
// API Management (mTLS for DFSPs, Entra ID for operators), and a virtual network: the function
// app is integrated into it and reaches MySQL through a private endpoint in every environment;
// with privateNetworking (prod) Cosmos DB, Key Vault, Event Hubs and Storage get private
// endpoints too and every data service's public access is disabled.
//
// Written for languageVersion 1.0 (azure.md §4.1): no user-defined types, no nullable
// parameters, no `func`, no `import`, no lambdas, every module has a `name:`. The hand-written
// marketplace/mainTemplate.json is held equal to this file and its modules by
// tests/deploy-checks (same resources, types, API versions, parameters and outputs).
targetScope = 'resourceGroup'

// ---- Basics -----------------------------------------------------------------------------------

@description('Short lowercase name used in every resource name (letters and digits).')
@minLength(3)
@maxLength(11)
param prefix string

@description('Azure region of every resource. Flex Consumption is region-limited (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

// ---- Event Hubs (sizing) ----------------------------------------------------------------------

@description('Event Hubs tier. Standard allows at most 10 event hubs per namespace; the switch consumes 7.')
@allowed([
  'Standard'
  'Premium'
])
param eventHubsSku string = 'Standard'

@description('Throughput units (Standard) or processing units (Premium).')
@minValue(1)
@maxValue(20)
param eventHubsCapacity int = 1

@description('Auto-inflate ceiling in throughput units (Standard only).')
@minValue(1)
@maxValue(20)
param eventHubsMaximumThroughputUnits int = 4

@description('Partitions per event hub: at most one function instance per partition works on a hub at a time. Fixed at creation on Standard.')
@minValue(1)
@maxValue(32)
param eventHubsPartitionCount int = 4

@description('Days an event stays on a hub (Standard: at most 7).')
@minValue(1)
@maxValue(7)
param eventHubsRetentionDays int = 1

// ---- Function app (sizing) --------------------------------------------------------------------

@description('Memory of one Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Most Flex Consumption instances (all functions). Keep instances x 16 MySQL connections below the server\'s max_connections, and instances x memory within the region\'s Flex memory quota (512,000 MB by default, shared by every app of the subscription in the region).')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Always-ready instances for the HTTP functions (the DFSP-facing transfers API, no cold start); they count towards the maximum and are billed while idle. 0 for none.')
@minValue(0)
@maxValue(20)
param functionAlwaysReadyHttpInstances int = 0

@description('Answer only API Management at the function app (access restriction to the gateway\'s public IP).')
param restrictIngressToApim bool = true

// ---- Networking -------------------------------------------------------------------------------

@description('Private endpoints and private DNS zones for Cosmos DB, Key Vault, Event Hubs and Storage, and public network access disabled on them and on MySQL. MySQL has a private endpoint in every case.')
param privateNetworking bool = false

// ---- Ledger database (MySQL Flexible Server) --------------------------------------------------

@description('MySQL administrator login.')
param mysqlAdminLogin string = 'switchadmin'

@description('MySQL administrator password; stored in Key Vault, reaches the handler only as a Key Vault reference.')
@secure()
@minLength(12)
param mysqlAdminPassword string

@description('MySQL compute size, e.g. Standard_B2ms (Burstable) or Standard_D4ds_v4 (GeneralPurpose).')
param mysqlSkuName string = 'Standard_B2ms'

@description('MySQL compute tier. Zone-redundant HA needs GeneralPurpose or BusinessCritical.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'BusinessCritical'
])
param mysqlSkuTier string = 'Burstable'

@description('MySQL storage in GB.')
@minValue(20)
@maxValue(16384)
param mysqlStorageSizeGB int = 32

@description('Zone-redundant high availability (a standby in another zone).')
param mysqlZoneRedundantHa bool = false

@description('Days of MySQL backups.')
@minValue(1)
@maxValue(35)
param mysqlBackupRetentionDays int = 7

@description('Public IPv4 address of the deploying client let through the MySQL firewall for administration; empty for none. Ignored with privateNetworking. The switch itself reaches MySQL through its private endpoint.')
param mysqlClientIpAddress string = ''

@description('Root CA bundle the handler uses for MySQL TLS (LEDGER_MYSQL_CA): mysql-ca.pem, shipped in the package (the DigiCert and Microsoft roots Azure MySQL chains to), relative to the app root.')
param mysqlCaPath string = 'mysql-ca.pem'

// ---- Message journal (Cosmos DB) --------------------------------------------------------------

@description('Autoscale ceiling of the journal container, in RU/s (the floor is a tenth of it).')
@minValue(1000)
@maxValue(1000000)
param cosmosMaxThroughput int = 1000

@description('Zone-redundant Cosmos DB region.')
param cosmosZoneRedundant bool = false

// ---- API Management ---------------------------------------------------------------------------

@description('API Management tier: a classic tier, because only classic tiers accept the scheme CA upload that client-certificate chain validation needs.')
@allowed([
  'Developer'
  'Basic'
  'Standard'
  'Premium'
])
param apimSku string = 'Developer'

@description('API Management units.')
@minValue(1)
@maxValue(10)
param apimCapacity int = 1

@description('Publisher e-mail shown by API Management.')
param apimPublisherEmail string

@description('Publisher name shown by API Management.')
param apimPublisherName string = 'Mojaloop switch operator'

@description('The scheme CA certificate that issues DFSP client certificates: base64 of the DER (.cer) file.')
param schemeCaCertificate string

@description('Certificate store of the scheme CA in API Management: Root for a self-signed root, CertificateAuthority for an intermediate.')
@allowed([
  'Root'
  'CertificateAuthority'
])
param schemeCaStoreName string = 'Root'

@description('Client certificate thumbprints mapped to participants: THUMBPRINT=fspId;THUMBPRINT=fspId. Certificates not listed map to their subject CN.')
param fspCertificateMap string = 'NONE=none'

@description('Entra ID tenant that issues operator tokens.')
param operatorTenantId string = subscription().tenantId

@description('Audience (application ID URI or client id) of operator tokens for the admin and settlement APIs.')
param operatorApiAudience string

@description('App role an operator token must carry.')
param operatorAppRole string = 'Switch.Operator'

// ---- Switch behaviour -------------------------------------------------------------------------

@description('Allow transfers whose payer and payee are the same DFSP (ENABLE_ON_US_TRANSFERS).')
param enableOnUsTransfers bool = false

@description('Send the committed transfer to the payee too (SEND_TRANSFER_CONFIRMATION_TO_PAYEE).')
param sendTransferConfirmationToPayee bool = true

@description('Content-Type version of the callbacks the Hub makes (CALLBACK_CONTENT_VERSION); 1.0 is what the Mojaloop Testing Toolkit expects by default.')
@allowed([
  '1.0'
  '1.1'
  '2.0'
])
param callbackContentVersion string = '1.0'

// ---- Monitoring -------------------------------------------------------------------------------

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('E-mail addresses of the alerts\' action group (dead-lettered callbacks, function failures, MySQL CPU and storage, Event Hubs throttling).')
param alertEmailAddresses array = []

// ---- Names ------------------------------------------------------------------------------------

var suffix = uniqueString(resourceGroup().id)
var names = {
  identity: 'id-${prefix}-${suffix}'
  storage: toLower('st${prefix}${take(suffix, 10)}')
  eventHubs: 'evhns-${prefix}-${suffix}'
  keyVault: 'kv-${prefix}-${take(suffix, 8)}'
  mysql: 'mysql-${prefix}-${suffix}'
  cosmos: 'cosmos-${prefix}-${suffix}'
  logs: 'log-${prefix}-${suffix}'
  appInsights: 'appi-${prefix}-${suffix}'
  plan: 'plan-${prefix}-${suffix}'
  functionApp: 'func-${prefix}-${suffix}'
  apim: 'apim-${prefix}-${suffix}'
  vnet: 'vnet-${prefix}-${suffix}'
  actionGroup: 'ag-${prefix}-${suffix}'
}

// The hubs and consumer groups the Event Hubs triggers in functions/bindings/*/function.json
// name (one consuming function per hub; a test holds this list equal to those files).
var eventHubs = [
  {
    name: 'transfer-prepare'
    consumerGroup: 'cg-prepare'
  }
  {
    name: 'transfer-fulfil'
    consumerGroup: 'cg-fulfil'
  }
  {
    name: 'transfer-get'
    consumerGroup: 'cg-get'
  }
  {
    name: 'transfer-position'
    consumerGroup: 'cg-position'
  }
  {
    name: 'notification-event'
    consumerGroup: 'cg-notification'
  }
  {
    name: 'admin-transfer'
    consumerGroup: 'cg-admin'
  }
  {
    name: 'settlement-window-close'
    consumerGroup: 'cg-settlement'
  }
]

var ledgerDatabaseName = 'central_ledger'
var journalDatabaseName = 'switch'
var journalContainerName = 'journal'
var deploymentContainerName = 'app-package'
var publicNetworkAccess = privateNetworking ? 'Disabled' : 'Enabled'

// ---- Modules ----------------------------------------------------------------------------------

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    identityName: names.identity
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: names.logs
    appInsightsName: names.appInsights
    logRetentionDays: logRetentionDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    storageAccountName: names.storage
    deploymentContainerName: deploymentContainerName
    publicNetworkAccess: publicNetworkAccess
    principalId: identity.outputs.principalId
    identityId: identity.outputs.identityId
  }
}

module eventHubsNamespace 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    location: location
    namespaceName: names.eventHubs
    sku: eventHubsSku
    capacity: eventHubsCapacity
    maximumThroughputUnits: eventHubsMaximumThroughputUnits
    partitionCount: eventHubsPartitionCount
    retentionDays: eventHubsRetentionDays
    eventHubs: eventHubs
    publicNetworkAccess: publicNetworkAccess
    principalId: identity.outputs.principalId
    identityId: identity.outputs.identityId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    keyVaultName: names.keyVault
    publicNetworkAccess: publicNetworkAccess
    principalId: identity.outputs.principalId
    identityId: identity.outputs.identityId
  }
}

module ledgerDatabase 'modules/mysql.bicep' = {
  name: 'mysql'
  params: {
    location: location
    serverName: names.mysql
    databaseName: ledgerDatabaseName
    adminLogin: mysqlAdminLogin
    adminPassword: mysqlAdminPassword
    skuName: mysqlSkuName
    skuTier: mysqlSkuTier
    storageSizeGB: mysqlStorageSizeGB
    zoneRedundantHa: mysqlZoneRedundantHa
    backupRetentionDays: mysqlBackupRetentionDays
    clientIpAddress: privateNetworking ? '' : mysqlClientIpAddress
    publicNetworkAccess: publicNetworkAccess
    keyVaultName: keyVault.outputs.keyVaultName
  }
}

module journal 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    location: location
    accountName: names.cosmos
    databaseName: journalDatabaseName
    containerName: journalContainerName
    maxThroughput: cosmosMaxThroughput
    zoneRedundant: cosmosZoneRedundant
    publicNetworkAccess: publicNetworkAccess
    principalId: identity.outputs.principalId
    identityId: identity.outputs.identityId
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: {
    location: location
    vnetName: names.vnet
    privateNetworking: privateNetworking
    mysqlServerId: ledgerDatabase.outputs.serverId
    cosmosAccountId: journal.outputs.accountId
    keyVaultId: keyVault.outputs.keyVaultId
    eventHubsNamespaceId: eventHubsNamespace.outputs.namespaceId
    storageAccountId: storage.outputs.storageAccountId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    planName: names.plan
    functionAppName: names.functionApp
    subnetId: network.outputs.functionsSubnetId
    identityId: identity.outputs.identityId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.storageAccountName
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    alwaysReadyHttpInstances: functionAlwaysReadyHttpInstances
    appInsightsConnectionString: monitoring.outputs.connectionString
    eventHubsNamespaceFqdn: eventHubsNamespace.outputs.namespaceFqdn
    ledgerMysqlUrlSecretUri: ledgerDatabase.outputs.ledgerMysqlUrlSecretUri
    mysqlCaPath: mysqlCaPath
    cosmosEndpoint: journal.outputs.endpoint
    cosmosDatabaseName: journal.outputs.databaseName
    cosmosContainerName: journal.outputs.containerName
    keyVaultUri: keyVault.outputs.keyVaultUri
    enableOnUsTransfers: enableOnUsTransfers
    sendTransferConfirmationToPayee: sendTransferConfirmationToPayee
    callbackContentVersion: callbackContentVersion
  }
}

module gateway 'modules/apim.bicep' = {
  name: 'apim'
  params: {
    location: location
    apimName: names.apim
    sku: apimSku
    capacity: apimCapacity
    publisherEmail: apimPublisherEmail
    publisherName: apimPublisherName
    schemeCaCertificate: schemeCaCertificate
    schemeCaStoreName: schemeCaStoreName
    fspCertificateMap: fspCertificateMap
    operatorTenantId: operatorTenantId
    operatorApiAudience: operatorApiAudience
    operatorAppRole: operatorAppRole
    functionAppHostName: functionApp.outputs.defaultHostName
    appInsightsName: monitoring.outputs.appInsightsName
    appInsightsConnectionString: monitoring.outputs.connectionString
  }
}

module ingress 'modules/ingress.bicep' = if (restrictIngressToApim) {
  name: 'ingress'
  params: {
    functionAppName: functionApp.outputs.functionAppName
    allowedIpAddress: gateway.outputs.gatewayPublicIpAddress
  }
}

module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  params: {
    workspaceId: monitoring.outputs.workspaceId
    storageAccountName: storage.outputs.storageAccountName
    eventHubsNamespaceName: names.eventHubs
    keyVaultName: keyVault.outputs.keyVaultName
    mysqlServerName: names.mysql
    cosmosAccountName: names.cosmos
    functionAppName: functionApp.outputs.functionAppName
    apimName: gateway.outputs.apimName
    vnetName: names.vnet
  }
  dependsOn: [
    eventHubsNamespace
    ledgerDatabase
    journal
    network
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    location: location
    actionGroupName: names.actionGroup
    emailAddresses: alertEmailAddresses
    appInsightsId: monitoring.outputs.appInsightsId
    mysqlServerId: ledgerDatabase.outputs.serverId
    eventHubsNamespaceId: eventHubsNamespace.outputs.namespaceId
  }
}

// ---- Outputs (no secrets) ---------------------------------------------------------------------

output functionAppName string = functionApp.outputs.functionAppName
output functionAppHostName string = functionApp.outputs.defaultHostName
output apimName string = gateway.outputs.apimName
output apimGatewayUrl string = gateway.outputs.gatewayUrl
output eventHubsNamespace string = eventHubsNamespace.outputs.namespaceFqdn
output keyVaultName string = keyVault.outputs.keyVaultName
output storageAccountName string = storage.outputs.storageAccountName
output mysqlServerFqdn string = ledgerDatabase.outputs.serverFqdn
output cosmosEndpoint string = journal.outputs.endpoint
output workbookId string = monitoring.outputs.workbookId
