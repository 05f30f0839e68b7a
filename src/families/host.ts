/** The host family: uname and the host and domain names. */
export { uname, gethostname, sethostname, getdomainname, setdomainname } from '../raw/host';
export type { UtsName, NameOptions } from '../raw/host';
