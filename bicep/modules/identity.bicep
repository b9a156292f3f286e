// The switch's user-assigned managed identity. Every role assignment targets it, so they all
// exist before the function app starts (no "principal not found" race with a system identity),
// and the handler names it by client id (AZURE_CLIENT_ID, EventHubConnection__clientId,
// AzureWebJobsStorage__clientId).
param location string
param identityName string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: identityName
  location: location
}

output identityId string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
