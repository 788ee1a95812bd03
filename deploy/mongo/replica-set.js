// Healthcheck of the `mongo` service in docker-compose.yml (run with `mongosh --file`).
// Initiates the single-member replica set rs0 the first time (idempotent: later runs find
// it initiated) and exits non-zero until this member is primary, so services that wait for
// a healthy `mongo` can write at once. Credentials come from the container environment.
db.getSiblingDB("admin").auth(
  process.env.MONGO_INITDB_ROOT_USERNAME,
  process.env.MONGO_INITDB_ROOT_PASSWORD,
);
try {
  rs.status();
} catch (error) {
  if (error.codeName !== "NotYetInitialized") throw error;
  // The member's host must be the name clients resolve: `mongo` on the compose network.
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
}
if (!db.hello().isWritablePrimary) quit(1);
