// Diagnostic settings: every resource of the switch sends its logs (category group allLogs, where
// it has logs) and its platform metrics to the Log Analytics workspace, where the alerts and
// an operator's queries find them beside the handler's own telemetry (Application Insights is
// workspace-based, so its tables are there already). The storage account itself has metrics only;
// its blob service has the logs.
param workspaceId string
param storageAccountName string
param eventHubsNamespaceName string
param keyVaultName string
param mysqlServerName string
param cosmosAccountName string
param functionAppName string
param apimName string
param vnetName string

var allLogs = [
  {
    categoryGroup: 'allLogs'
    enabled: true
  }
]
var allMetrics = [
  {
    category: 'AllMetrics'
    enabled: true
  }
]
var settingName = 'to-log-analytics'

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' existing = {
  parent: storageAccount
  name: 'default'
}

resource eventHubsNamespace 'Microsoft.EventHub/namespaces@2026-01-01' existing = {
  name: eventHubsNamespaceName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource mysqlServer 'Microsoft.DBforMySQL/flexibleServers@2024-12-30' existing = {
  name: mysqlServerName
}

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' existing = {
  name: cosmosAccountName
}

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

resource apim 'Microsoft.ApiManagement/service@2024-05-01' existing = {
  name: apimName
}

resource vnet 'Microsoft.Network/virtualNetworks@2025-07-01' existing = {
  name: vnetName
}

resource storageDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: storageAccount
  name: settingName
  properties: {
    workspaceId: workspaceId
    metrics: allMetrics
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: blobService
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}

resource eventHubsDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: eventHubsNamespace
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: vault
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}

resource mysqlDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: mysqlServer
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}

resource cosmosDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: cosmosAccount
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}

resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: site
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}

resource apimDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: apim
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}

resource vnetDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: vnet
  name: settingName
  properties: {
    workspaceId: workspaceId
    logs: allLogs
    metrics: allMetrics
  }
}
