// Gatehouse's release, as package.json names it: the CLI's --version, the API server's /version and the
// User-Agent of its clients carry it.
export const GATEHOUSE_VERSION = '0.1.0';
