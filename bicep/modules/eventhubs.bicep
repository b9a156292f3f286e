// The Event Hubs namespace with exactly the hubs and consumer groups the Event Hubs triggers name
// (passed in from main.bicep), and the switch identity's two data roles on it: Receiver for the
// triggers, Sender for the handler's publisher. Entra ID only (local auth off).
param location string
param namespaceName string
@allowed([
  'Standard'
  'Premium'
])
param sku string
param capacity int
param maximumThroughputUnits int
param partitionCount int
param retentionDays int
@description('Objects { name, consumerGroup }: one hub each, with the consumer group of the function that reads it.')
param eventHubs array
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string
@description('Principal id of the switch identity.')
param principalId string
@description('Resource id of the switch identity (names its role assignments: known before deployment, unlike the principal id).')
param identityId string

var eventHubsDataReceiverRoleId = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
var eventHubsDataSenderRoleId = '2b629674-e913-4c01-ae53-ef4638d8f975'
var isStandard = sku == 'Standard'

resource namespace 'Microsoft.EventHub/namespaces@2026-01-01' = {
  name: namespaceName
  location: location
  sku: {
    name: sku
    tier: sku
    capacity: capacity
  }
  properties: {
    minimumTlsVersion: '1.2'
    disableLocalAuth: true
    publicNetworkAccess: publicNetworkAccess
    isAutoInflateEnabled: isStandard
    maximumThroughputUnits: isStandard ? maximumThroughputUnits : 0
  }
}

resource hubs 'Microsoft.EventHub/namespaces/eventhubs@2026-01-01' = [for hub in eventHubs: {
  parent: namespace
  name: hub.name
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: retentionDays
  }
}]

resource consumerGroups 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2026-01-01' = [for (hub, i) in eventHubs: {
  parent: hubs[i]
  name: hub.consumerGroup
}]

resource dataReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: namespace
  name: guid(namespace.id, identityId, eventHubsDataReceiverRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiverRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource dataSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: namespace
  name: guid(namespace.id, identityId, eventHubsDataSenderRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataSenderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output namespaceId string = namespace.id
// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/; the handler and the trigger
// want the bare host name.
output namespaceFqdn string = replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')
