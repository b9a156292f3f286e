// Key Vault in RBAC mode: the MySQL secrets live here and reach the handler only as Key Vault
// references in app settings, which the platform resolves with the switch identity (Key Vault
// Secrets User, read-only on secrets).
param location string
param keyVaultName string
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string
@description('Principal id of the switch identity.')
param principalId string
@description('Resource id of the switch identity (names its role assignments: known before deployment, unlike the principal id).')
param identityId string

var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
var softDeleteRetentionDays = 90

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: keyVaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionDays
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identityId, keyVaultSecretsUserRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output keyVaultName string = vault.name
output keyVaultId string = vault.id
output keyVaultUri string = vault.properties.vaultUri
