// The function app: Flex Consumption (FC1, Linux) with the custom runtime (the Rust `handler`
// binary named in host.json), the switch's user-assigned identity, the deployment package in a
// blob container reached with that identity, and the app settings the handler reads
// (functions/handler/src/process.rs, publish.rs, telemetry.rs). Flex takes the runtime from
// functionAppConfig: FUNCTIONS_WORKER_RUNTIME, WEBSITE_RUN_FROM_PACKAGE and WEBSITE_CONTENT* are
// deliberately absent (azure.md §1.11).
param location string
param planName string
param functionAppName string
@description('Subnet (delegated to Microsoft.App/environments) the app is integrated into: its outbound traffic, MySQL and the private endpoints included, goes through the virtual network.')
param subnetId string
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param instanceMemoryMB int
param maximumInstanceCount int
@description('Always-ready instances of the HTTP functions (the `http` group): the DFSP-facing entry points answer without a cold start. 0 for none.')
param alwaysReadyHttpInstances int
param appInsightsConnectionString string
param eventHubsNamespaceFqdn string
@description('Versionless Key Vault secret URI of the MySQL connection URL.')
param ledgerMysqlUrlSecretUri string
param mysqlCaPath string
param cosmosEndpoint string
param cosmosDatabaseName string
param cosmosContainerName string
param keyVaultUri string
param enableOnUsTransfers bool
param sendTransferConfirmationToPayee bool
@description('CALLBACK_CONTENT_VERSION: 1.0, 1.1 or 2.0.')
param callbackContentVersion string

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  // How the Azure Developer CLI finds the app to deploy the `switch` service of azure.yaml to.
  tags: {
    'azd-service-name': 'switch'
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: subnetId
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyHttpInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : []
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccountName
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsightsConnectionString
        }
        {
          name: 'EventHubConnection__fullyQualifiedNamespace'
          value: eventHubsNamespaceFqdn
        }
        {
          name: 'EventHubConnection__credential'
          value: 'managedidentity'
        }
        {
          name: 'EventHubConnection__clientId'
          value: identityClientId
        }
        {
          name: 'EVENTHUB_NAMESPACE'
          value: eventHubsNamespaceFqdn
        }
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        {
          name: 'LEDGER_MYSQL_URL'
          value: '@Microsoft.KeyVault(SecretUri=${ledgerMysqlUrlSecretUri})'
        }
        {
          name: 'LEDGER_MYSQL_CA'
          value: mysqlCaPath
        }
        {
          name: 'COSMOS_ENDPOINT'
          value: cosmosEndpoint
        }
        {
          name: 'COSMOS_DATABASE'
          value: cosmosDatabaseName
        }
        {
          name: 'COSMOS_CONTAINER'
          value: cosmosContainerName
        }
        {
          name: 'KEYVAULT_URI'
          value: keyVaultUri
        }
        // The handler reads exactly `true` or `false`; string(true) would give `True`.
        {
          name: 'ENABLE_ON_US_TRANSFERS'
          value: enableOnUsTransfers ? 'true' : 'false'
        }
        {
          name: 'SEND_TRANSFER_CONFIRMATION_TO_PAYEE'
          value: sendTransferConfirmationToPayee ? 'true' : 'false'
        }
        {
          name: 'CALLBACK_CONTENT_VERSION'
          value: callbackContentVersion
        }
      ]
    }
  }
}

output functionAppName string = site.name
output defaultHostName string = site.properties.defaultHostName
