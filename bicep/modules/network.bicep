// The switch's virtual network: a subnet delegated to Microsoft.App/environments for the Flex
// Consumption app's VNet integration (its outbound traffic goes through the network), a subnet for
// private endpoints, and one private endpoint with its private DNS zone (linked to the network) per
// data service the app must reach privately. MySQL always has one: without it, and without the
// 0.0.0.0 firewall rule, a Flex app (no fixed outbound addresses) could not reach the ledger. With
// privateNetworking, Cosmos DB, Key Vault, Event Hubs and the host's Storage (blob) get one too,
// and main.bicep disables their public network access.
//
// API Management stays outside the network (DFSPs reach it over the internet with mTLS); the
// function app accepts only the gateway's own public address (ingress.bicep). README explains why
// this rather than APIM in the network or the ApiManagement service tag.
param location string
param vnetName string
param privateNetworking bool
param mysqlServerId string
param cosmosAccountId string
param keyVaultId string
param eventHubsNamespaceId string
param storageAccountId string

var addressPrefix = '10.40.0.0/16'
var functionsSubnetName = 'functions'
var functionsSubnetPrefix = '10.40.0.0/24'
var endpointsSubnetName = 'private-endpoints'
var endpointsSubnetPrefix = '10.40.1.0/24'
// name, the target's private-link group, its private DNS zone (public cloud names), the target.
var mysqlEndpoint = [
  {
    name: 'mysql'
    groupId: 'mysqlServer'
    zone: 'privatelink.mysql.database.azure.com'
    target: mysqlServerId
  }
]
var serviceEndpoints = [
  {
    name: 'cosmos'
    groupId: 'Sql'
    zone: 'privatelink.documents.azure.com'
    target: cosmosAccountId
  }
  {
    name: 'keyvault'
    groupId: 'vault'
    zone: 'privatelink.vaultcore.azure.net'
    target: keyVaultId
  }
  {
    name: 'eventhubs'
    groupId: 'namespace'
    zone: 'privatelink.servicebus.windows.net'
    target: eventHubsNamespaceId
  }
  {
    name: 'blob'
    groupId: 'blob'
    zone: 'privatelink.blob.${environment().suffixes.storage}'
    target: storageAccountId
  }
]
var endpoints = privateNetworking ? concat(mysqlEndpoint, serviceEndpoints) : mysqlEndpoint

resource vnet 'Microsoft.Network/virtualNetworks@2025-07-01' = {
  name: vnetName
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: functionsSubnetName
        properties: {
          addressPrefix: functionsSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: endpointsSubnetName
        properties: {
          addressPrefix: endpointsSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for endpoint in endpoints: {
  name: endpoint.zone
  location: 'global'
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (endpoint, i) in endpoints: {
  parent: zones[i]
  name: vnetName
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2025-07-01' = [for endpoint in endpoints: {
  name: 'pe-${endpoint.name}-${vnetName}'
  location: location
  properties: {
    subnet: {
      id: resourceId('Microsoft.Network/virtualNetworks/subnets', vnetName, endpointsSubnetName)
    }
    privateLinkServiceConnections: [
      {
        name: endpoint.name
        properties: {
          privateLinkServiceId: endpoint.target
          groupIds: [
            endpoint.groupId
          ]
        }
      }
    ]
  }
  dependsOn: [
    vnet
  ]
}]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-07-01' = [for (endpoint, i) in endpoints: {
  parent: privateEndpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: endpoint.name
        properties: {
          privateDnsZoneId: zones[i].id
        }
      }
    ]
  }
}]

output functionsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnetName, functionsSubnetName)
output vnetId string = vnet.id
