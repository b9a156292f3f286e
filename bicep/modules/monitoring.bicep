// Log Analytics, Application Insights (workspace-based) and the switch's workbook.
// Local (instrumentation key) auth stays ENABLED: the handler's exporter
// (opentelemetry-application-insights) cannot do Entra ingestion (azure.md §0, §10.6).
param location string
param workspaceName string
param appInsightsName string
param logRetentionDays int

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: false
  }
}

// The tiles' KQL lives in ../workbook/switch-workbook.json; tests/deploy-checks holds every name
// it queries to what the handler and the APIM policies emit.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsights.id, 'switch-workbook')
  location: location
  kind: 'shared'
  properties: {
    displayName: 'Mojaloop switch: transfers'
    category: 'workbook'
    sourceId: appInsights.id
    version: 'Notebook/1.0'
    serializedData: loadTextContent('../workbook/switch-workbook.json')
  }
}

output workspaceId string = workspace.id
output appInsightsId string = appInsights.id
output appInsightsName string = appInsights.name
output connectionString string = appInsights.properties.ConnectionString
output workbookId string = workbook.id
