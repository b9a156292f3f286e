// The ledger database: Azure Database for MySQL Flexible Server with TLS required (TLS 1.2+),
// zone-redundant HA when asked for, the central_ledger database, and the two secrets the switch
// needs in Key Vault (the admin password, and LEDGER_MYSQL_URL, which embeds it).
param location string
param serverName string
param databaseName string
param adminLogin string
@secure()
param adminPassword string
param skuName string
param skuTier string
param storageSizeGB int
param zoneRedundantHa bool
param backupRetentionDays int
@description('Public IPv4 of the deploying client to let through the firewall; empty for none.')
param clientIpAddress string
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string
param keyVaultName string

// MySQL 8.4 (LTS): standard support for 8.0 on Azure ended 2026-05-31 and extended-support
// billing starts 2027-01-01. A version is chosen at creation; an existing 8.0 server moves with a
// major-version upgrade, not by redeploying this file. The API's ServerVersion is an extensible
// string, so 2024-12-30 (the latest stable) carries '8.4'; confirm on a live subscription that
// the region offers it (az mysql flexible-server list-skus, azure.md §9.7).
var mysqlVersion = '8.4'
var mysqlPort = 3306

resource server 'Microsoft.DBforMySQL/flexibleServers@2024-12-30' = {
  name: serverName
  location: location
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: mysqlVersion
    administratorLogin: adminLogin
    administratorLoginPassword: adminPassword
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: zoneRedundantHa ? 'ZoneRedundant' : 'Disabled'
    }
    network: {
      publicNetworkAccess: publicNetworkAccess
    }
  }
}

// On by default on Flexible Server; set explicitly so nobody turns it off by accident.
resource requireSecureTransport 'Microsoft.DBforMySQL/flexibleServers/configurations@2024-12-30' = {
  parent: server
  name: 'require_secure_transport'
  properties: {
    value: 'ON'
    source: 'user-override'
  }
}

// After the first configuration: the server applies one configuration change at a time.
resource tlsVersion 'Microsoft.DBforMySQL/flexibleServers/configurations@2024-12-30' = {
  parent: server
  name: 'tls_version'
  properties: {
    value: 'TLSv1.2,TLSv1.3'
    source: 'user-override'
  }
  dependsOn: [
    requireSecureTransport
  ]
}

resource database 'Microsoft.DBforMySQL/flexibleServers/databases@2024-12-30' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'utf8mb4'
    collation: 'utf8mb4_unicode_ci'
  }
  dependsOn: [
    tlsVersion
  ]
}

// The operator's own address only. No 0.0.0.0 "any Azure IP" rule: it admits every Azure
// subscription's traffic; the switch comes in through the private endpoint (network.bicep).
resource allowClient 'Microsoft.DBforMySQL/flexibleServers/firewallRules@2024-12-30' = if (!empty(clientIpAddress)) {
  parent: server
  name: 'deploying-client'
  properties: {
    startIpAddress: clientIpAddress
    endIpAddress: clientIpAddress
  }
  dependsOn: [
    database
  ]
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource adminPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'mysql-admin-password'
  properties: {
    value: adminPassword
    contentType: 'text/plain'
  }
}

resource ledgerUrlSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'ledger-mysql-url'
  properties: {
    value: 'mysql://${uriComponent(adminLogin)}:${uriComponent(adminPassword)}@${server.properties.fullyQualifiedDomainName}:${mysqlPort}/${databaseName}'
    contentType: 'text/uri-list'
  }
}

output serverFqdn string = server.properties.fullyQualifiedDomainName
output serverId string = server.id
// Versionless, so a rotated secret is picked up on the next restart (azure.md §3.4).
output ledgerMysqlUrlSecretUri string = '${vault.properties.vaultUri}secrets/${ledgerUrlSecret.name}/'
