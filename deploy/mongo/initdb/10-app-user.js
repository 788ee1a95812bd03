// Runs once, when the mongo container starts on an empty data volume (the image runs
// /docker-entrypoint-initdb.d/*.js as root, before the replica set is started).
// Creates the services' user with readWrite on each service database and nothing else;
// its password is MONGO_APP_PASSWORD, the one in every service's SMM_MONGO__URL.
// Changing the password later: db.changeUserPassword("smm", ...) as root.
const password = process.env.MONGO_APP_PASSWORD;
if (!password) throw new Error("MONGO_APP_PASSWORD is not set");

const databases = ["smm_console", "smm_ingest", "smm_responder", "smm_publisher", "smm_analytics"];
db.getSiblingDB("admin").createUser({
  user: "smm",
  pwd: password,
  roles: databases.map((name) => ({ role: "readWrite", db: name })),
});
