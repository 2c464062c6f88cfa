// geoip-country ships no types; leakscope reads only the ISO country code.
declare module 'geoip-country' {
  const geoip: { lookup(ip: string): { country: string } | null };
  export default geoip;
}
