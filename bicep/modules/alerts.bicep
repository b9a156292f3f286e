// Alerts, all wired to one action group whose e-mail receivers are a parameter:
// - dead-lettered callbacks: the notification function set an event aside (n_dead_letters > 0 on
//   its `function.notification` requests; functions/handler/src/telemetry.rs);
// - function failures: invocations the handler marked failed (`success == false`: outcome retry
//   or undecodable), which stall a partition while they retry;
// - MySQL CPU and storage above 80 %, and Event Hubs throttled requests (platform metrics).
// - a participant's position at 90 % of its net debit cap or more: the position function's
//   `ndc_used_percent` metric (functions/plumbing/src/telemetry.rs), one alert per participant
//   and currency;
param location string
param actionGroupName string
@description('E-mail addresses the alerts go to.')
param emailAddresses array
param appInsightsId string
param mysqlServerId string
param eventHubsNamespaceId string

// The handler's service name in Application Insights (cloud_RoleName; telemetry.rs SERVICE_NAME).
var roleName = 'mojaloop-switch-handler'
var percentThreshold = 80
// telemetry.rs NDC_USED_WARNING_PERCENT: the handler logs a warning from the same share on.
var ndcUsedPercentThreshold = 90
var failingPeriods = {
  numberOfEvaluationPeriods: 1
  minFailingPeriodsToAlert: 1
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  properties: {
    groupShortName: 'switch'
    enabled: true
    emailReceivers: [for (address, i) in emailAddresses: {
      name: 'email-${i}'
      emailAddress: address
      useCommonAlertSchema: true
    }]
  }
}

resource deadLetteredCallbacks 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${actionGroupName}-dead-lettered-callbacks'
  location: location
  properties: {
    displayName: 'Dead-lettered callbacks'
    description: 'The notification function set callbacks aside as dead letters: a DFSP was not told an outcome.'
    severity: 1
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'requests | where cloud_RoleName == "${roleName}" and name == "function.notification" | extend dead = toint(customDimensions["n_dead_letters"]) | summarize dead_letters = sum(dead)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'dead_letters'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: failingPeriods
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource functionFailures 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${actionGroupName}-function-failures'
  location: location
  properties: {
    displayName: 'Function failures'
    description: 'Invocations failed (retrying or undecodable); a retrying Event Hubs batch holds its partition.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'requests | where cloud_RoleName == "${roleName}" and success == false | summarize failures = count()'
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: failingPeriods
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource ndcUsed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${actionGroupName}-ndc-used'
  location: location
  properties: {
    displayName: 'Position near the net debit cap'
    description: 'A participant uses 90 % or more of its net debit cap in a currency: its next prepares may be refused (4200).'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where cloud_RoleName == "${roleName}" and name == "ndc_used_percent" | extend participant = tostring(customDimensions["participant"]), currency = tostring(customDimensions["currency"]) | summarize used_percent = max(valueMax) by participant, currency'
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'used_percent'
          dimensions: [
            {
              name: 'participant'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'currency'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThanOrEqual'
          threshold: ndcUsedPercentThreshold
          failingPeriods: failingPeriods
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource mysqlCpu 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${actionGroupName}-mysql-cpu'
  location: 'global'
  properties: {
    description: 'Ledger database CPU above 80 % for 15 minutes.'
    severity: 2
    enabled: true
    scopes: [
      mysqlServerId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'cpu'
          metricName: 'cpu_percent'
          operator: 'GreaterThan'
          threshold: percentThreshold
          timeAggregation: 'Average'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource mysqlStorage 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${actionGroupName}-mysql-storage'
  location: 'global'
  properties: {
    description: 'Ledger database storage above 80 % (auto-grow is on; this warns before the size and the bill jump).'
    severity: 2
    enabled: true
    scopes: [
      mysqlServerId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'storage'
          metricName: 'storage_percent'
          operator: 'GreaterThan'
          threshold: percentThreshold
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

resource eventHubsThrottling 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${actionGroupName}-eventhubs-throttling'
  location: 'global'
  properties: {
    description: 'Event Hubs throttled requests: the namespace needs more throughput (processing) units.'
    severity: 2
    enabled: true
    scopes: [
      eventHubsNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'throttled'
          metricName: 'ThrottledRequests'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}
