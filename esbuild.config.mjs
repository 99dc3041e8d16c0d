// Bundling of the Lambda handlers. Filled in with the handlers (issue #5): one bundle per
// handler, the native binding kept external and shipped in node_modules.
export const handlers = [];
