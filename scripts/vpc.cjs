/** serverless.yml: `subnetIds: ${file(./scripts/vpc.cjs):subnetIds}`, the comma-separated param as a list. */
module.exports.subnetIds = ({ resolveVariable }) =>
  resolveVariable('param:subnetIds').then((value) =>
    String(value)
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  );
