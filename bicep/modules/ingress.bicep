// Lets only API Management reach the function app: its HTTP functions are `authLevel:
// anonymous` because APIM does mTLS and the FSPIOP-Source check, so a direct call must not get
// through. Applied after APIM exists (it needs the gateway's address); the scm site keeps its
// own rules so code deployment still works.
param functionAppName string
@description('Public IP address of the API Management gateway.')
param allowedIpAddress string

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

resource webConfig 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'web'
  properties: {
    minTlsVersion: '1.2'
    ftpsState: 'Disabled'
    http20Enabled: true
    ipSecurityRestrictionsDefaultAction: 'Deny'
    scmIpSecurityRestrictionsUseMain: false
    ipSecurityRestrictions: [
      {
        name: 'api-management'
        ipAddress: '${allowedIpAddress}/32'
        action: 'Allow'
        priority: 100
      }
    ]
  }
}
