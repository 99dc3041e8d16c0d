/**
 * The CloudWatch dashboard of the seed's metrics, generated from the same names the code emits
 * (serverless.yml: `DashboardBody: ${file(./scripts/dashboard.cjs):body}`).
 */
const SERVICE = 'lambda-kafka';

function widget(title, metrics, stat, y, x) {
  return {
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: {
      title,
      view: 'timeSeries',
      stat,
      period: 300,
      // Fn::Sub fills the region in at deploy time.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation placeholder, not a JS template.
      region: '${AWS::Region}',
      metrics: metrics.map(([namespace, name]) => [namespace, name, 'service', SERVICE]),
    },
  };
}

/** A CloudFormation value: the JSON body, with the region substituted at deploy time. */
module.exports.body = ({ resolveVariable }) =>
  resolveVariable('param:metricsNamespace').then((namespace) => {
    const m = (name) => [namespace, name];
    const stages = ['ssl', 'admin', 'broker_health', 'topics', 'producer', 'consumer'];
    const widgets = [
      widget(
        'Initialisation attempts (> 1 means a retry)',
        [m('consumer_init_attempts'), m('producer_init_attempts')],
        'Maximum',
        0,
        0,
      ),
      widget('Connection errors', [m('connection_errors_total')], 'Sum', 0, 12),
      widget('Topic creation errors', [m('topic_creation_errors')], 'Sum', 6, 0),
      widget('Cold starts', [m('cold_start')], 'Sum', 6, 12),
      widget(
        'Initialisation duration per stage (ms)',
        stages.map((stage) => m(`init_duration_${stage}`)),
        'Average',
        12,
        0,
      ),
      widget('Messages', [m('messages_produced'), m('messages_consumed')], 'Sum', 12, 12),
      widget('Health check failures', [m('health_check_failures')], 'Sum', 18, 0),
      widget(
        'Drains that ended unassigned (rejoining) / secrets rotated',
        [m('consume_unassigned'), m('secret_refreshes')],
        'Sum',
        18,
        12,
      ),
    ];
    return { 'Fn::Sub': JSON.stringify({ widgets }) };
  });
