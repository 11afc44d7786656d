/** One `WWW-Authenticate` challenge: a scheme and its parameters. */
export interface Challenge {
  /** Lowercased: `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lowercased: `realm`, `service`, `scope`. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235), which may hold several
 * challenges separated by commas, with quoted values that contain commas.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (chars: string) => {
    while (i < header.length && chars.includes(header.charAt(i))) i++;
  };
  const token = () => {
    const start = i;
    while (i < header.length && !' \t,="'.includes(header.charAt(i))) i++;
    return header.slice(start, i);
  };
  const quoted = () => {
    let value = "";
    i++;
    while (i < header.length && header[i] !== '"') {
      if (header[i] === "\\") i++;
      value += header.charAt(i++);
    }
    i++;
    return value;
  };

  let current: Challenge | undefined;
  while (i < header.length) {
    skip(" \t,");
    const word = token();
    if (word === "") {
      // Stray character such as an unmatched quote: step over it.
      i++;
      continue;
    }
    skip(" \t");
    if (header[i] === "=" && current) {
      i++;
      skip(" \t");
      current.params[word.toLowerCase()] = header[i] === '"' ? quoted() : token();
    } else {
      current = { scheme: word.toLowerCase(), params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}
