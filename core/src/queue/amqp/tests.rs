//! Against the real broker at `AMQP_URL` (default: a local RabbitMQ with the guest user).
//! Each test works under its own prefix and deletes its exchanges and queues at the end.
//! An unreachable broker fails the tests, unless `PROGIMAGE_SKIP_AMQP=1` says to skip.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use lapin::options::{ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use uuid::Uuid;

use super::topology::Topology;
use super::*;
use crate::queue::{Attempt, Family, HandleError, MessageHandler, RetryPolicy};

const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// How long a test waits for something that should happen.
const PATIENCE: Duration = Duration::from_secs(15);

/// The tests' retry policy: three deliveries, short delays.
fn policy() -> RetryPolicy {
    RetryPolicy::new(3, vec![Duration::from_millis(300), Duration::from_secs(2)]).unwrap()
}

/// One test's corner of the broker, with a side connection to inspect it.
struct TestBroker {
    config: AmqpConfig,
    topology: Topology,
    _connection: Connection,
    channel: Channel,
}

impl TestBroker {
    /// Connects, or returns `None` after saying why when the broker is unreachable and
    /// `PROGIMAGE_SKIP_AMQP=1` is set; otherwise an unreachable broker fails the test.
    async fn start() -> Option<TestBroker> {
        let url = std::env::var("AMQP_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let connected = tokio::time::timeout(
            Duration::from_secs(5),
            Connection::connect(&url, ConnectionProperties::default()),
        )
        .await;
        let connection = match connected {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return skip_or_fail(&error.to_string()),
            Err(_) => return skip_or_fail("timed out"),
        };
        let channel = connection.create_channel().await.unwrap();
        let prefix = format!("progimage-test-{}", Uuid::now_v7());
        let retry = policy();
        let topology = Topology::new(&prefix, &retry);
        // Declared up front so raw publishes and counts never race the code under test.
        topology.declare(&channel).await.unwrap();
        Some(TestBroker {
            topology,
            config: AmqpConfig { url, prefix, retry },
            _connection: connection,
            channel,
        })
    }

    /// Messages ready in `queue` (unacked ones are not counted).
    async fn ready(&self, queue: &str) -> u32 {
        let passive = QueueDeclareOptions { passive: true, ..Default::default() };
        let declared =
            self.channel.queue_declare(queue.into(), passive, FieldTable::default()).await.unwrap();
        declared.message_count()
    }

    async fn family_ready(&self, family: Family) -> u32 {
        self.ready(&self.topology.family_queue(family)).await
    }

    async fn dead(&self) -> u32 {
        self.ready(&self.topology.dead_queue()).await
    }

    /// Asserts that nothing is left anywhere: every message was acked.
    async fn assert_all_settled(&self) {
        for family in Family::ALL {
            assert_eq!(self.family_ready(family).await, 0, "{} queue", family.name());
        }
        for &delay in self.topology.delays() {
            assert_eq!(self.ready(&self.topology.retry(delay)).await, 0, "retry queue");
        }
        assert_eq!(self.dead().await, 0, "dead queue");
    }

    /// Publishes a raw payload to the main exchange, as a foreign producer would.
    async fn publish_raw(&self, family: Family, payload: &[u8], attempt: u32) {
        self.channel.confirm_select(Default::default()).await.unwrap();
        let properties = message_properties("raw", attempt);
        publish_confirmed(
            &self.channel,
            self.topology.exchange(),
            family.name(),
            payload,
            properties,
        )
        .await
        .unwrap();
    }
}

/// Deletes the test's exchanges and queues even when the test panicked: on a thread of
/// its own with its own runtime and connection, since the test's may be unusable.
impl Drop for TestBroker {
    fn drop(&mut self) {
        let (url, topology) = (self.config.url.clone(), self.topology.clone());
        let cleanup = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(delete_topology(&url, &topology));
        });
        if cleanup.join().is_err() && !std::thread::panicking() {
            panic!("cannot delete the test's exchanges and queues");
        }
    }
}

async fn delete_topology(url: &str, topology: &Topology) {
    let connection = Connection::connect(url, ConnectionProperties::default()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let mut queues: Vec<String> =
        Family::ALL.into_iter().map(|family| topology.family_queue(family)).collect();
    queues.push(topology.dead_queue());
    let mut exchanges = vec![topology.exchange().to_owned(), topology.dead_letter_exchange()];
    for &delay in topology.delays() {
        queues.push(topology.retry(delay));
        exchanges.push(topology.retry(delay));
    }
    for queue in queues {
        channel.queue_delete(queue.into(), QueueDeleteOptions::default()).await.unwrap();
    }
    for exchange in exchanges {
        channel.exchange_delete(exchange.into(), ExchangeDeleteOptions::default()).await.unwrap();
    }
    connection.close(200, "cleanup".into()).await.unwrap();
}

fn skip_or_fail(why: &str) -> Option<TestBroker> {
    if std::env::var("PROGIMAGE_SKIP_AMQP").is_ok_and(|skip| skip == "1") {
        println!("skipped: RabbitMQ unreachable ({why}) and PROGIMAGE_SKIP_AMQP=1");
        return None;
    }
    panic!(
        "RabbitMQ unreachable at AMQP_URL ({why}); set PROGIMAGE_SKIP_AMQP=1 to skip these tests"
    );
}

/// A consumer running in the background; dropped by a failing test, it stops at once so
/// it cannot re-declare what the cleanup deletes.
struct Running {
    shutdown: CancellationToken,
    join: AbortOnDropHandle<anyhow::Result<()>>,
}

impl Running {
    fn start(
        config: &AmqpConfig,
        families: &[Family],
        concurrency: usize,
        handler: Arc<dyn MessageHandler>,
    ) -> Running {
        let shutdown = CancellationToken::new();
        let (config, families, token) = (config.clone(), families.to_vec(), shutdown.clone());
        let consumer =
            async move { consume(&config, &families, concurrency, handler, token).await };
        let join = AbortOnDropHandle::new(tokio::spawn(consumer));
        Running { shutdown, join }
    }

    /// Stops gracefully and returns how long that took.
    async fn stop(self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        self.join.await.unwrap().unwrap();
        started.elapsed()
    }
}

/// Polls `condition` until it holds, failing the test after [`PATIENCE`].
async fn wait_until<F: AsyncFn() -> bool>(what: &str, condition: F) {
    let deadline = Instant::now() + PATIENCE;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn job_item(index: u32, family: Family) -> Message {
    Message::JobItem { job_id: Uuid::now_v7(), index, family }
}

/// Records every message it is handed, then answers as told.
struct Recorder {
    seen: StdMutex<Vec<(Message, Instant, Attempt)>>,
    answer: fn(call: usize) -> Result<(), HandleError>,
    work: Duration,
}

impl Recorder {
    fn new(answer: fn(usize) -> Result<(), HandleError>) -> Arc<Recorder> {
        Arc::new(Recorder { seen: StdMutex::new(Vec::new()), answer, work: Duration::ZERO })
    }

    fn ok() -> Arc<Recorder> {
        Recorder::new(|_| Ok(()))
    }

    fn seen(&self) -> Vec<Message> {
        self.seen.lock().unwrap().iter().map(|(message, ..)| message.clone()).collect()
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl MessageHandler for Recorder {
    async fn handle(&self, message: &Message, attempt: Attempt) -> Result<(), HandleError> {
        let call = {
            let mut seen = self.seen.lock().unwrap();
            seen.push((message.clone(), Instant::now(), attempt));
            seen.len() - 1
        };
        tokio::time::sleep(self.work).await;
        (self.answer)(call)
    }
}

/// Holds every handler until the gate opens (never, if the test says so), counting how
/// many are inside at once.
#[derive(Default)]
struct Gate {
    open: CancellationToken,
    inside: AtomicUsize,
    most_inside: AtomicUsize,
    finished: AtomicUsize,
}

#[async_trait::async_trait]
impl MessageHandler for Gate {
    async fn handle(&self, _message: &Message, _attempt: Attempt) -> Result<(), HandleError> {
        let inside = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_inside.fetch_max(inside, Ordering::SeqCst);
        self.open.cancelled().await;
        self.inside.fetch_sub(1, Ordering::SeqCst);
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A TCP relay in front of the broker whose connections the test can cut, as a broker
/// restart or a network failure would.
struct Relay {
    url: String,
    accepted: Arc<AtomicUsize>,
    links: Arc<StdMutex<tokio::task::JoinSet<()>>>,
    acceptor: JoinHandle<()>,
}

impl Relay {
    async fn start(broker_url: &str) -> Relay {
        let mut url = url::Url::parse(broker_url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5672));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(listener.local_addr().unwrap().port())).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let links = Arc::new(StdMutex::new(tokio::task::JoinSet::new()));
        let acceptor = tokio::spawn({
            let (accepted, links) = (accepted.clone(), links.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let target = target.clone();
                    links.lock().unwrap().spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            }
        });
        Relay { url: url.to_string(), accepted, links, acceptor }
    }

    /// Drops every relayed connection at once: both ends see the socket close.
    fn cut(&self) {
        self.links.lock().unwrap().abort_all();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}

#[test]
fn the_attempt_header_round_trips_and_defaults_to_one() {
    assert_eq!(attempt_of(&message_properties("id", 3)), 3);
    assert_eq!(attempt_of(&lapin::BasicProperties::default()), 1);
    let mut headers = FieldTable::default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongString("three".into()));
    assert_eq!(attempt_of(&lapin::BasicProperties::default().with_headers(headers)), 1);
}

#[test]
fn debug_output_hides_the_password() {
    let config = AmqpConfig::new("amqp://user:secret@broker:5672/%2f");
    let debug = format!("{config:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains("progimage"), "{debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_message_is_handled_once_and_acked() {
    let Some(broker) = TestBroker::start().await else { return };
    let queue = AmqpQueue::connect(&broker.config).await.unwrap();
    queue.check().await.unwrap();
    let recorder = Recorder::ok();
    let consumer = Running::start(&broker.config, &Family::ALL, 4, recorder.clone());

    let published: Vec<Message> = (0..20)
        .map(|index| job_item(index, if index % 2 == 0 { Family::Raster } else { Family::Vector }))
        .collect();
    for message in &published {
        queue.publish(message).await.unwrap();
    }
    wait_until("every message is handled", async || recorder.count() >= published.len()).await;
    // Give a duplicate the chance to show up before stopping.
    tokio::time::sleep(Duration::from_millis(300)).await;
    consumer.stop().await;

    let mut seen = recorder.seen();
    let mut expected = published.clone();
    let key = |message: &Message| format!("{message:?}");
    seen.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(seen, expected, "each message exactly once");
    // The consumer is gone: an unacked message would be back in its queue by now.
    broker.assert_all_settled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn families_route_to_their_own_queues() {
    let Some(broker) = TestBroker::start().await else { return };
    let queue = AmqpQueue::connect(&broker.config).await.unwrap();
    let recorder = Recorder::ok();
    let consumer = Running::start(&broker.config, &[Family::Vector], 2, recorder.clone());

    let raster = job_item(0, Family::Raster);
    let vector = job_item(1, Family::Vector);
    queue.publish(&raster).await.unwrap();
    queue.publish(&vector).await.unwrap();
    wait_until("the vector message is handled", async || recorder.count() >= 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    consumer.stop().await;

    assert_eq!(recorder.seen(), vec![vector]);
    assert_eq!(broker.family_ready(Family::Raster).await, 1, "raster waits for a raster consumer");
    assert_eq!(broker.family_ready(Family::Vector).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_message_comes_back_after_the_delay() {
    let Some(broker) = TestBroker::start().await else { return };
    let queue = AmqpQueue::connect(&broker.config).await.unwrap();
    let recorder = Recorder::new(|call| match call {
        0 => Err(HandleError::Retry(anyhow::anyhow!("storage is down"))),
        _ => Ok(()),
    });
    let consumer = Running::start(&broker.config, &Family::ALL, 2, recorder.clone());

    let message = job_item(0, Family::Vector);
    queue.publish(&message).await.unwrap();
    wait_until("the message is handled twice", async || recorder.count() >= 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    consumer.stop().await;

    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one failure, one success");
    assert!(seen.iter().all(|(handled, ..)| *handled == message));
    assert_eq!((seen[0].2.number, seen[1].2.number), (1, 2), "the attempts are counted");
    assert!(!seen[1].2.last);
    let gap = seen[1].1 - seen[0].1;
    assert!(gap >= Duration::from_millis(200), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(2), "retried after {gap:?}");
    broker.assert_all_settled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_and_unreadable_messages_are_dead_lettered() {
    let Some(broker) = TestBroker::start().await else { return };
    let queue = AmqpQueue::connect(&broker.config).await.unwrap();
    let recorder = Recorder::new(|_| Err(HandleError::Fatal(anyhow::anyhow!("no such image"))));
    let consumer = Running::start(&broker.config, &Family::ALL, 2, recorder.clone());

    queue.publish(&job_item(0, Family::Raster)).await.unwrap();
    broker.publish_raw(Family::Raster, b"{\"kind\":\"unknown\"}", 1).await;
    wait_until("both messages are dead", async || broker.dead().await == 2).await;
    consumer.stop().await;

    assert_eq!(recorder.count(), 1, "the unreadable message never reaches the handler");
    assert_eq!(broker.family_ready(Family::Raster).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_out_of_attempts_waits_the_longest_delay_and_is_never_dead_lettered() {
    let Some(broker) = TestBroker::start().await else { return };
    // A handler that cannot record an outcome (its database is down) keeps asking.
    let recorder = Recorder::new(|_| Err(HandleError::Retry(anyhow::anyhow!("still down"))));
    let consumer = Running::start(&broker.config, &Family::ALL, 2, recorder.clone());

    // As if it had already failed on every attempt but the last and come back.
    let max = broker.config.retry.max_attempts();
    let message = job_item(0, Family::Raster);
    let payload = serde_json::to_vec(&message).unwrap();
    broker.publish_raw(Family::Raster, &payload, max).await;
    wait_until("the message is back once more", async || recorder.count() >= 2).await;
    consumer.stop().await;

    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!((seen[0].2.number, seen[1].2.number), (max, max + 1));
    assert!(seen[0].2.last && seen[1].2.last, "the handler is told it is the last attempt");
    let gap = seen[1].1 - seen[0].1;
    let longest = broker.config.retry.longest_delay();
    assert!(gap >= longest - Duration::from_millis(100), "parked for {gap:?}");
    assert_eq!(broker.dead().await, 0, "a retryable message is never dead-lettered");
    assert!(seen.iter().all(|(handled, ..)| *handled == message));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_bounds_concurrency() {
    let Some(broker) = TestBroker::start().await else { return };
    let queue = AmqpQueue::connect(&broker.config).await.unwrap();
    let gate = Arc::new(Gate::default());
    let consumer = Running::start(&broker.config, &[Family::Raster], 2, gate.clone());

    for index in 0..5 {
        queue.publish(&job_item(index, Family::Raster)).await.unwrap();
    }
    wait_until("two handlers are running", async || gate.inside.load(Ordering::SeqCst) == 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gate.most_inside.load(Ordering::SeqCst), 2);
    // The broker holds back what is beyond the prefetch window.
    assert_eq!(broker.family_ready(Family::Raster).await, 3);

    gate.open.cancel();
    wait_until("every message is handled", async || gate.finished.load(Ordering::SeqCst) == 5)
        .await;
    consumer.stop().await;
    assert_eq!(gate.most_inside.load(Ordering::SeqCst), 2);
    broker.assert_all_settled().await;
}

/// Publishes, loses the connections halfway through (`lose` returns once they are gone),
/// publishes more, and checks that every message is handled (at least once) and acked.
async fn survive_connection_loss(
    broker: &TestBroker,
    config: &AmqpConfig,
    lose: impl AsyncFnOnce(),
) {
    let queue = AmqpQueue::connect(config).await.unwrap();
    let recorder = Arc::new(Recorder {
        seen: StdMutex::new(Vec::new()),
        answer: |_| Ok(()),
        work: Duration::from_millis(50),
    });
    let consumer = Running::start(config, &Family::ALL, 2, recorder.clone());

    let mut published = Vec::new();
    for index in 0..10 {
        published.push(job_item(index, Family::Raster));
        queue.publish(published.last().unwrap()).await.unwrap();
    }
    wait_until("some messages are handled", async || recorder.count() >= 3).await;
    lose().await;
    // The producer notices on its next publish and reconnects without an error.
    for index in 10..20 {
        published.push(job_item(index, Family::Vector));
        queue.publish(published.last().unwrap()).await.unwrap();
    }
    queue.check().await.unwrap();

    let expected: HashSet<String> =
        published.iter().map(|message| format!("{message:?}")).collect();
    wait_until("every message is handled", async || {
        let seen: HashSet<String> =
            recorder.seen().iter().map(|message| format!("{message:?}")).collect();
        seen == expected
    })
    .await;
    consumer.stop().await;
    // Messages in flight at the loss are handled again (at least once), none is lost.
    assert!(recorder.count() >= published.len());
    broker.assert_all_settled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_and_consumer_survive_a_cut_connection() {
    let Some(broker) = TestBroker::start().await else { return };
    let relay = Relay::start(&broker.config.url).await;
    let config = AmqpConfig { url: relay.url.clone(), ..broker.config.clone() };
    let mut connections_before = 0;
    survive_connection_loss(&broker, &config, async || {
        connections_before = relay.accepted.load(Ordering::SeqCst);
        relay.cut();
    })
    .await;
    assert!(
        relay.accepted.load(Ordering::SeqCst) >= connections_before + 2,
        "both sides reconnected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_and_consumer_survive_the_broker_closing_their_connections() {
    let Some(broker) = TestBroker::start().await else { return };
    let prefix = broker.config.prefix.clone();
    survive_connection_loss(&broker, &broker.config, async || {
        // What a broker restart does: a CONNECTION_FORCED close from the broker's side.
        let closed =
            tokio::task::spawn_blocking(move || close_connections_of(&prefix)).await.unwrap();
        assert_eq!(closed, 2, "the producer's and the consumer's connections");
    })
    .await;
}

/// Has the broker close every connection whose client properties mention `prefix` (the
/// connection names do), leaving other users of the broker alone; returns how many.
fn close_connections_of(prefix: &str) -> usize {
    // Tab-separated rows; the plain format (unlike JSON) prints pids with the broker's
    // node name, as close_connection wants them.
    let listed = rabbitmqctl(&["list_connections", "pid", "client_properties"]);
    let mut closed = 0;
    for row in listed.lines().filter(|row| row.contains(prefix)) {
        let (pid, _) = row.split_once('\t').unwrap();
        rabbitmqctl(&["close_connection", pid, "test: simulated broker restart"]);
        closed += 1;
    }
    closed
}

fn rabbitmqctl(arguments: &[&str]) -> String {
    let output = std::process::Command::new("rabbitmqctl")
        .arg("--quiet")
        .args(arguments)
        .output()
        .expect("rabbitmqctl runs (these tests need a local RabbitMQ and its CLI)");
    assert!(
        output.status.success(),
        "rabbitmqctl {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_an_unfinished_message_to_the_next_consumer() {
    let Some(broker) = TestBroker::start().await else { return };
    let queue = AmqpQueue::connect(&broker.config).await.unwrap();
    let stuck = Arc::new(Gate::default());
    let first = Running::start(&broker.config, &Family::ALL, 2, stuck.clone());

    let message = job_item(0, Family::Raster);
    queue.publish(&message).await.unwrap();
    wait_until("the handler is running", async || stuck.inside.load(Ordering::SeqCst) == 1).await;
    let took = first.stop().await;
    assert!(took >= SHUTDOWN_DEADLINE, "waited {took:?} for the in-flight handler");
    assert!(took < SHUTDOWN_DEADLINE + Duration::from_secs(3), "stopped in {took:?}");
    assert_eq!(stuck.finished.load(Ordering::SeqCst), 0);
    assert_eq!(broker.family_ready(Family::Raster).await, 1, "back in its queue, unacked");

    let recorder = Recorder::ok();
    let second = Running::start(&broker.config, &Family::ALL, 2, recorder.clone());
    wait_until("the next consumer handles it", async || recorder.count() == 1).await;
    second.stop().await;
    assert_eq!(recorder.seen(), vec![message]);
    broker.assert_all_settled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_handler_is_acked_before_shutdown_completes() {
    let Some(broker) = TestBroker::start().await else { return };
    let queue = AmqpQueue::connect(&broker.config).await.unwrap();
    let gate = Arc::new(Gate::default());
    let consumer = Running::start(&broker.config, &Family::ALL, 2, gate.clone());

    queue.publish(&job_item(0, Family::Vector)).await.unwrap();
    wait_until("the handler is running", async || gate.inside.load(Ordering::SeqCst) == 1).await;
    let stopping = tokio::spawn(consumer.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    gate.open.cancel();
    let took = stopping.await.unwrap();
    assert!(took < SHUTDOWN_DEADLINE, "stopped in {took:?}");
    assert_eq!(gate.finished.load(Ordering::SeqCst), 1);
    broker.assert_all_settled().await;
}

#[tokio::test]
async fn an_unreachable_broker_fails_to_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config = AmqpConfig::new(format!("amqp://guest:guest@127.0.0.1:{port}/%2f"));
    let error = AmqpQueue::connect(&config).await.unwrap_err();
    assert!(matches!(error, QueueError::Unavailable(_)), "{error}");
    let error = AmqpQueue::connect(&AmqpConfig::new("not a url")).await.unwrap_err();
    assert!(error.to_string().contains("invalid AMQP URL"), "{error}");
}
