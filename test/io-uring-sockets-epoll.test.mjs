// The io_uring socket suite again, on the portable readiness backend (Butter's
// own epoll thread), which is chosen when 'butter' is first loaded.
process.env.BUTTER_READINESS = 'epoll';
await import('./io-uring-sockets.test.mjs');
