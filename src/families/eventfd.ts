/** The eventfd family: the 1:1 calls and EventFd. */
export { eventfd, eventfdRead, eventfdWrite } from '../raw/eventfd';
export { EventFd } from '../high/eventfd';
export type { EventFdOptions } from '../high/eventfd';
