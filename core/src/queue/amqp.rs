//! RabbitMQ: publisher confirms, manual acks after the database commit, a dead-letter
//! queue, and reconnection after a broker restart.
