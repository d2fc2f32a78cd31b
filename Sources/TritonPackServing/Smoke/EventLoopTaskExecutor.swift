import NIOCore

/// A task executor that runs jobs on one NIO event loop. The timed requests run on the loop that
/// carries their connections: a request, its response and the next request then stay on one
/// thread, where every answer otherwise woke a thread of the cooperative pool (two hops per
/// request, which halved throughput on two cores).
package final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    package let loop: any EventLoop

    package init(_ loop: any EventLoop) { self.loop = loop }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
