// API Management in a classic tier (the only tiers that accept a CA upload, azure.md §3.5): the
// scheme CA in the service's certificate store, client certificates negotiated on the gateway
// host name, and four APIs in front of the function app:
// - fspiop (path /fspiop): the DFSPs' transfers API, behind mTLS and the FSPIOP-Source check;
// - admin (path /admin): the central-ledger admin API, behind Entra ID;
// - settlement (path /settlement/v2): the central-settlement API, behind Entra ID;
// - health (path /health): the smoke test's GET.
// Policies are ../policies/*.xml, strict XML, deployed with format `xml`.
//
// Gateway telemetry goes to Application Insights by connection string with the service's
// system-assigned identity (Monitoring Metrics Publisher on the component): ingestion by
// instrumentation key alone ended on 2025-03-31.
param location string
param apimName string
@allowed([
  'Developer'
  'Basic'
  'Standard'
  'Premium'
])
param sku string
param capacity int
param publisherEmail string
param publisherName string
@description('Base64 of the scheme CA certificate (DER).')
param schemeCaCertificate string
param schemeCaStoreName string
param fspCertificateMap string
param operatorTenantId string
param operatorApiAudience string
param operatorAppRole string
param functionAppHostName string
param appInsightsName string
@description('Connection string of the Application Insights component (not a secret: with Entra ingestion it only names the endpoint).')
param appInsightsConnectionString string

var backendUrl = 'https://${functionAppHostName}'
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'
var operatorMethods = [
  'GET'
  'POST'
  'PUT'
]
var fspiopOperations = [
  {
    name: 'post-transfers'
    method: 'POST'
    urlTemplate: '/transfers'
    withId: false
  }
  {
    name: 'get-transfer'
    method: 'GET'
    urlTemplate: '/transfers/{id}'
    withId: true
  }
  {
    name: 'put-transfer'
    method: 'PUT'
    urlTemplate: '/transfers/{id}'
    withId: true
  }
  {
    name: 'patch-transfer'
    method: 'PATCH'
    urlTemplate: '/transfers/{id}'
    withId: true
  }
  {
    name: 'put-transfer-error'
    method: 'PUT'
    urlTemplate: '/transfers/{id}/error'
    withId: true
  }
]
var transferIdParameter = [
  {
    name: 'id'
    type: 'string'
    required: true
  }
]

resource service 'Microsoft.ApiManagement/service@2024-05-01' = {
  name: apimName
  location: location
  sku: {
    name: sku
    capacity: capacity
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    publisherEmail: publisherEmail
    publisherName: publisherName
    hostnameConfigurations: [
      {
        type: 'Proxy'
        hostName: '${apimName}.azure-api.net'
        negotiateClientCertificate: true
        defaultSslBinding: true
        certificateSource: 'BuiltIn'
      }
    ]
    certificates: [
      {
        encodedCertificate: schemeCaCertificate
        storeName: schemeCaStoreName
      }
    ]
    customProperties: {
      'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Ssl30': 'False'
      'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10': 'False'
      'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11': 'False'
      'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Ssl30': 'False'
      'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls10': 'False'
      'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11': 'False'
      'Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Ciphers.TripleDes168': 'False'
    }
  }
}

resource certificateMap 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = {
  parent: service
  name: 'fsp-cert-map'
  properties: {
    displayName: 'fsp-cert-map'
    value: fspCertificateMap
  }
}

resource openIdConfigUrl 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = {
  parent: service
  name: 'operator-openid-config-url'
  properties: {
    displayName: 'operator-openid-config-url'
    value: '${environment().authentication.loginEndpoint}${operatorTenantId}/v2.0/.well-known/openid-configuration'
  }
}

resource operatorAudience 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = {
  parent: service
  name: 'operator-audience'
  properties: {
    displayName: 'operator-audience'
    value: operatorApiAudience
  }
}

resource operatorRole 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = {
  parent: service
  name: 'operator-app-role'
  properties: {
    displayName: 'operator-app-role'
    value: operatorAppRole
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Lets the gateway's identity send telemetry with an Entra token (the logger below).
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, service.id, monitoringMetricsPublisherRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: service.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource logger 'Microsoft.ApiManagement/service/loggers@2024-05-01' = {
  parent: service
  name: 'appinsights'
  properties: {
    loggerType: 'applicationInsights'
    resourceId: appInsights.id
    credentials: {
      connectionString: appInsightsConnectionString
      identityClientId: 'systemAssigned'
    }
  }
  dependsOn: [
    metricsPublisher
  ]
}

// Gateway requests and the policies' `trace` records (severity error and up) to App Insights.
resource diagnostics 'Microsoft.ApiManagement/service/diagnostics@2024-05-01' = {
  parent: service
  name: 'applicationinsights'
  properties: {
    loggerId: logger.id
    alwaysLog: 'allErrors'
    verbosity: 'error'
    httpCorrelationProtocol: 'W3C'
    sampling: {
      samplingType: 'fixed'
      percentage: 100
    }
  }
}

resource fspiopApi 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: service
  name: 'fspiop'
  properties: {
    displayName: 'FSPIOP transfers'
    path: 'fspiop'
    protocols: [
      'https'
    ]
    serviceUrl: backendUrl
    subscriptionRequired: false
  }
}

resource fspiopOperation 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = [for operation in fspiopOperations: {
  parent: fspiopApi
  name: operation.name
  properties: {
    displayName: '${operation.method} ${operation.urlTemplate}'
    method: operation.method
    urlTemplate: operation.urlTemplate
    templateParameters: operation.withId ? transferIdParameter : []
  }
}]

resource fspiopPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-05-01' = {
  parent: fspiopApi
  name: 'policy'
  properties: {
    format: 'xml'
    value: loadTextContent('../policies/fspiop.xml')
  }
  dependsOn: [
    certificateMap
  ]
}

resource adminApi 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: service
  name: 'admin'
  properties: {
    displayName: 'Central ledger admin'
    path: 'admin'
    protocols: [
      'https'
    ]
    serviceUrl: backendUrl
    subscriptionRequired: false
  }
}

resource adminOperation 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = [for method in operatorMethods: {
  parent: adminApi
  name: 'admin-${toLower(method)}'
  properties: {
    displayName: '${method} admin resource'
    method: method
    urlTemplate: '/*'
  }
}]

resource adminPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-05-01' = {
  parent: adminApi
  name: 'policy'
  properties: {
    format: 'xml'
    value: loadTextContent('../policies/operator-admin.xml')
  }
  dependsOn: [
    openIdConfigUrl
    operatorAudience
    operatorRole
  ]
}

resource settlementApi 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: service
  name: 'settlement'
  properties: {
    displayName: 'Central settlement'
    path: 'settlement/v2'
    protocols: [
      'https'
    ]
    serviceUrl: '${backendUrl}/v2'
    subscriptionRequired: false
  }
}

resource settlementOperation 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = [for method in operatorMethods: {
  parent: settlementApi
  name: 'settlement-${toLower(method)}'
  properties: {
    displayName: '${method} settlement resource'
    method: method
    urlTemplate: '/*'
  }
}]

resource settlementPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-05-01' = {
  parent: settlementApi
  name: 'policy'
  properties: {
    format: 'xml'
    value: loadTextContent('../policies/operator-settlement.xml')
  }
  dependsOn: [
    openIdConfigUrl
    operatorAudience
    operatorRole
  ]
}

resource healthApi 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: service
  name: 'health'
  properties: {
    displayName: 'Health'
    path: 'health'
    protocols: [
      'https'
    ]
    serviceUrl: backendUrl
    subscriptionRequired: false
  }
}

resource healthOperation 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = {
  parent: healthApi
  name: 'get-health'
  properties: {
    displayName: 'GET /health'
    method: 'GET'
    urlTemplate: '/'
  }
}

resource healthPolicy 'Microsoft.ApiManagement/service/apis/operations/policies@2024-05-01' = {
  parent: healthOperation
  name: 'policy'
  properties: {
    format: 'xml'
    value: loadTextContent('../policies/health.xml')
  }
}

output apimName string = service.name
output gatewayUrl string = service.properties.gatewayUrl
output gatewayPublicIpAddress string = service.properties.publicIPAddresses[0]
